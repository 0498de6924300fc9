//! Data-plane conformance cases: each is a `pub async fn(&DataPlane)` named for the
//! behaviour it proves, and each is listed once in [`data_plane_cases!`](crate::data_plane_cases).

mod users;

pub use users::*;

/// The one list of data-plane cases. Calls `$crate::$callback!($($arg,)? case, case, …)`.
#[macro_export]
macro_rules! data_plane_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            users_create_then_get_by_email,
        }
    };
}
