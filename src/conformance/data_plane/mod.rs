//! Data-plane conformance cases: each is a `pub async fn(&DataPlane)` named for the
//! behaviour it proves, and each is listed once in [`data_plane_cases!`](crate::data_plane_cases).

mod consents;
mod email_tokens;
mod mfa;
mod rbac;
mod sessions;
mod support;
mod user_cascade;
mod users;

pub use consents::*;
pub use email_tokens::*;
pub use mfa::*;
pub use rbac::*;
pub use sessions::*;
pub use user_cascade::*;
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
