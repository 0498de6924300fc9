//! The hot paths' statements, built by SeaORM once per tenant instead of once per call, and
//! their rows read by position.
//!
//! Building a statement with SeaORM (a select list from the entity's columns, joins,
//! conditions, rendering) and naming the tenant's namespace in it ([`qualify`](super::qualify))
//! cost more CPU than the round trip that runs it on a loopback server: about 200,000
//! instructions for `users.get_by_email` against 80,000 for the same statement written by
//! hand with sqlx (callgrind; BENCHMARKS.md, "Statement templates"). A [`Template`] is a statement whose text does
//! not depend on its arguments. SeaORM builds it on a tenant's first call; the text, qualified
//! with the tenant's namespace, is kept in that tenant's [`Texts`] (one slot per template, so
//! one tenant's text can never serve another); every later call only binds its values,
//! which [`Template::values`] writes in the order SeaORM writes them.
//!
//! With debug assertions (every test run) each call also builds the statement with SeaORM
//! and checks that the text and values it would run are the ones the template runs: a
//! template whose values drift from its builder fails every conformance case that reaches
//! it, on every engine.
//!
//! Rows are read by position ([`Template::read`], with [`users_at`], …): the entity's
//! columns in the order of its `Column` enum, which is the order SeaORM selects them in, so
//! no column name is formatted and looked up per value. Tests check each reader against the
//! entity's columns and each template's [`Template::LAYOUT`] against the select list SeaORM
//! builds on every backend. A joined row that does not decode is an error, not a missing
//! row (SeaORM's `select_also` read it as `None`): a corrupt identity, user or assignment
//! surfaces instead of hiding.

use std::sync::{Arc, OnceLock};

use entity::{identities, refresh_tokens, roles, user_roles, users};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, DbBackend, DbErr, EntityTrait, JoinType, QueryFilter, QueryResult, QuerySelect, QueryTrait,
    RelationTrait, Statement, Value,
};
use uuid::Uuid;

use super::users::PASSWORD_PROVIDER;

/// A statement whose text does not depend on its arguments (see the module documentation).
pub(crate) trait Template {
    /// The template's slot in a tenant's [`Texts`]; unique, below [`SLOTS`].
    const SLOT: usize;
    /// For messages.
    const NAME: &'static str;
    /// What changes from call to call.
    type Args<'a>;
    /// The statement as SeaORM builds it for `args`.
    fn build(backend: DbBackend, args: &Self::Args<'_>) -> Statement;
    /// The values [`build`](Self::build) binds for `args`, in its order.
    fn values(args: &Self::Args<'_>) -> Vec<Value>;
    /// What one row of the statement reads as.
    type Row;
    /// Reads one row by position; [`LAYOUT`](Self::LAYOUT) says what it expects where.
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr>;
    /// The select list [`read`](Self::read) expects, in order: each entity's alias prefix
    /// (`A_`, `B_` for a statement with a second entity, `""` for one entity) and its
    /// reader's fields. A test checks it against the text SeaORM builds on every backend, so
    /// a template and its reader cannot drift apart unnoticed.
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])];
}

/// How many templates there are.
pub(crate) const SLOTS: usize = 5;

/// One tenant's template texts, qualified with its namespace; filled on first use.
#[derive(Default)]
pub(crate) struct Texts([OnceLock<Arc<str>>; SLOTS]);

impl Texts {
    /// The text of `T` for this tenant: the cached one, or `make`'s (kept for the next call).
    pub(crate) fn get_or_try<T: Template>(
        &self,
        make: impl FnOnce() -> Result<Arc<str>, DbErr>,
    ) -> Result<Arc<str>, DbErr> {
        const { assert!(T::SLOT < SLOTS, "a template's slot is below SLOTS") };
        let slot = &self.0[T::SLOT];
        if let Some(text) = slot.get() {
            return Ok(text.clone());
        }
        let text = make()?;
        Ok(slot.get_or_init(|| text).clone())
    }
}

/// `users` with its password identity (`LEFT JOIN`, the provider in the join condition), by
/// normalised e-mail: `users.get_by_email`.
pub(crate) struct UserByEmail;

impl Template for UserByEmail {
    const SLOT: usize = 0;
    const NAME: &'static str = "users.get_by_email";
    type Args<'a> = &'a str;

    fn build(backend: DbBackend, normalized: &&str) -> Statement {
        let password_identity = users::Relation::Identities.def().on_condition(|_, right| {
            Expr::col((right, identities::Column::Provider)).eq(PASSWORD_PROVIDER).into_condition()
        });
        users::Entity::find()
            .filter(users::Column::EmailNormalized.eq(*normalized))
            .join(JoinType::LeftJoin, password_identity)
            .select_also(identities::Entity)
            .limit(1)
            .build(backend)
    }

    fn values(normalized: &&str) -> Vec<Value> {
        vec![PASSWORD_PROVIDER.into(), (*normalized).into(), 1u64.into()]
    }

    type Row = (users::Model, Option<identities::Model>);
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr> {
        Ok((users_at(row, 0)?, identities_at_opt(row, USERS_COLUMNS)?))
    }
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])] =
        &[("A_", USERS_FIELDS), ("B_", IDENTITIES_FIELDS)];
}

/// `users` by id: `users.get_by_id`.
pub(crate) struct UserById;

impl Template for UserById {
    const SLOT: usize = 1;
    const NAME: &'static str = "users.get_by_id";
    type Args<'a> = Uuid;

    fn build(backend: DbBackend, id: &Uuid) -> Statement {
        users::Entity::find_by_id(*id).limit(1).build(backend)
    }

    fn values(id: &Uuid) -> Vec<Value> {
        vec![(*id).into(), 1u64.into()]
    }

    type Row = users::Model;
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr> {
        users_at(row, 0)
    }
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])] = &[("", USERS_FIELDS)];
}

/// `refresh_tokens` with its user (for the e-mail), by token hash: `tokens.get_by_hash`.
pub(crate) struct TokenByHash;

impl Template for TokenByHash {
    const SLOT: usize = 2;
    const NAME: &'static str = "tokens.get_by_hash";
    type Args<'a> = &'a str;

    fn build(backend: DbBackend, hash: &&str) -> Statement {
        refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(*hash))
            .find_also_related(users::Entity)
            .limit(1)
            .build(backend)
    }

    fn values(hash: &&str) -> Vec<Value> {
        vec![(*hash).into(), 1u64.into()]
    }

    type Row = (refresh_tokens::Model, Option<users::Model>);
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr> {
        Ok((tokens_at(row, 0)?, users_at_opt(row, TOKENS_COLUMNS)?))
    }
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])] =
        &[("A_", TOKENS_FIELDS), ("B_", USERS_FIELDS)];
}

/// `refresh_tokens` with its user, by id: `tokens.get_by_id`.
pub(crate) struct TokenById;

impl Template for TokenById {
    const SLOT: usize = 3;
    const NAME: &'static str = "tokens.get_by_id";
    type Args<'a> = Uuid;

    fn build(backend: DbBackend, id: &Uuid) -> Statement {
        refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::Id.eq(*id))
            .find_also_related(users::Entity)
            .limit(1)
            .build(backend)
    }

    fn values(id: &Uuid) -> Vec<Value> {
        vec![(*id).into(), 1u64.into()]
    }

    type Row = (refresh_tokens::Model, Option<users::Model>);
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr> {
        Ok((tokens_at(row, 0)?, users_at_opt(row, TOKENS_COLUMNS)?))
    }
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])] =
        &[("A_", TOKENS_FIELDS), ("B_", USERS_FIELDS)];
}

/// Every role of the tenant with the user's assignment of it, if any (`LEFT JOIN`, the user
/// in the join condition): `rbac.get_user_permissions`.
pub(crate) struct RolesWithAssignment;

impl Template for RolesWithAssignment {
    const SLOT: usize = 4;
    const NAME: &'static str = "rbac.get_user_permissions";
    type Args<'a> = Uuid;

    fn build(backend: DbBackend, user_id: &Uuid) -> Statement {
        let user_id = *user_id;
        let assignment = roles::Relation::UserRoles.def().on_condition(move |_, right| {
            Expr::col((right, user_roles::Column::UserId)).eq(user_id).into_condition()
        });
        roles::Entity::find()
            .join(JoinType::LeftJoin, assignment)
            .select_also(user_roles::Entity)
            .build(backend)
    }

    fn values(user_id: &Uuid) -> Vec<Value> {
        vec![(*user_id).into()]
    }

    type Row = (roles::Model, Option<user_roles::Model>);
    fn read(row: &QueryResult) -> Result<Self::Row, DbErr> {
        Ok((roles_at(row, 0)?, user_roles_at_opt(row, ROLES_COLUMNS)?))
    }
    #[cfg(test)]
    const LAYOUT: &'static [(&'static str, &'static [&'static str])] =
        &[("A_", ROLES_FIELDS), ("B_", USER_ROLES_FIELDS)];
}

/// Reads a model from `row` by position, starting at column `at`; the fields in the order
/// of the entity's columns. `$fields` names every field (a struct literal must), and a
/// test compares the list with the entity's `Column` enum.
macro_rules! model_reader {
    ($(#[$doc:meta])* $read:ident, $read_opt:ident, $names:ident, $entity:ident, $count:ident, [$($field:ident),+ $(,)?]) => {
        $(#[$doc])*
        #[allow(unused_assignments)] // the last field's increment
        pub(crate) fn $read(row: &QueryResult, at: usize) -> Result<$entity::Model, DbErr> {
            let mut i = at;
            Ok($entity::Model {
                $($field: {
                    let value = row.try_get_by_index(i)?;
                    i += 1;
                    value
                },)+
            })
        }

        /// The same from an outer join: `None` when the model's first column (its key) is
        /// NULL.
        #[allow(dead_code)] // not every model is read from an outer join
        pub(crate) fn $read_opt(row: &QueryResult, at: usize) -> Result<Option<$entity::Model>, DbErr> {
            match row.try_get_by_index::<Option<Uuid>>(at)? {
                None => Ok(None),
                Some(_) => $read(row, at).map(Some),
            }
        }

        /// The fields the reader takes, in order.
        #[cfg(test)]
        pub(crate) const $names: &[&str] = &[$(stringify!($field)),+];

        /// How many columns the model takes.
        #[allow(dead_code)]
        pub(crate) const $count: usize = [$(stringify!($field)),+].len();
    };
}

model_reader!(
    /// A `users` row at `at`.
    users_at, users_at_opt, USERS_FIELDS, users, USERS_COLUMNS,
    [
        id, email, email_normalized, email_verified, name, given_name, family_name, picture, locale,
        language, metadata, custom_fields, created_at, updated_at, disabled_at, disabled_until,
        disabled_reason, disabled_by, source_client_id,
    ]
);

model_reader!(
    /// An `identities` row at `at`.
    identities_at, identities_at_opt, IDENTITIES_FIELDS, identities, IDENTITIES_COLUMNS,
    [
        id, user_id, provider, provider_user_id, email, email_verified, password_hash, name, picture,
        raw_claims, created_at, updated_at,
    ]
);

model_reader!(
    /// A `refresh_tokens` row at `at`.
    tokens_at, tokens_at_opt, TOKENS_FIELDS, refresh_tokens, TOKENS_COLUMNS,
    [id, user_id, client_id, token_hash, issued_at, expires_at, rotated_from, revoked_at, family_id]
);

model_reader!(
    /// A `roles` row at `at`.
    roles_at, roles_at_opt, ROLES_FIELDS, roles, ROLES_COLUMNS,
    [id, name, description, permissions, inherits_from, system, created_at, updated_at]
);

/// The fields [`user_roles_at_opt`] takes, in order.
#[cfg(test)]
pub(crate) const USER_ROLES_FIELDS: &[&str] = &["user_id", "role_id", "assigned_at"];

/// A `user_roles` row at `at`, `None` when the outer join found none (its key is
/// composite, so the first column is checked as for the others).
pub(crate) fn user_roles_at_opt(row: &QueryResult, at: usize) -> Result<Option<user_roles::Model>, DbErr> {
    match row.try_get_by_index::<Option<Uuid>>(at)? {
        None => Ok(None),
        Some(user_id) => Ok(Some(user_roles::Model {
            user_id,
            role_id: row.try_get_by_index(at + 1)?,
            assigned_at: row.try_get_by_index(at + 2)?,
        })),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    fn names<C: sea_orm::ColumnTrait + Iterable>() -> Vec<String> {
        C::iter().map(|c| c.as_str().to_string()).collect()
    }

    #[test]
    fn readers_take_every_column_in_the_order_seaorm_selects_them() {
        assert_eq!(USERS_FIELDS, names::<users::Column>());
        assert_eq!(IDENTITIES_FIELDS, names::<identities::Column>());
        assert_eq!(TOKENS_FIELDS, names::<refresh_tokens::Column>());
        assert_eq!(ROLES_FIELDS, names::<roles::Column>());
        assert_eq!(USER_ROLES_FIELDS, names::<user_roles::Column>());
    }

    /// The names of the select list of `sql` (an alias where there is one), in order.
    fn selected(sql: &str) -> Vec<String> {
        let list = &sql["SELECT ".len()..sql.find(" FROM ").expect("FROM")];
        list.split(", ")
            .map(|item| {
                let last = item.rsplit(['.', ' ']).next().expect("a name");
                last.trim_matches(['"', '`']).to_string()
            })
            .collect()
    }

    /// Checks template `T` on every backend: it binds the values SeaORM binds, and selects
    /// what its reader reads where it reads it ([`Template::LAYOUT`]). Returns its slot.
    fn check<T: Template>(args: T::Args<'_>) -> usize {
        let expected: Vec<String> = T::LAYOUT
            .iter()
            .flat_map(|(prefix, fields)| fields.iter().map(move |f| format!("{prefix}{f}")))
            .collect();
        for backend in [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite] {
            let built = T::build(backend, &args);
            assert!(built.sql.starts_with("SELECT "), "{}: {}", T::NAME, built.sql);
            assert_eq!(selected(&built.sql), expected, "{} on {backend:?}: {}", T::NAME, built.sql);
            assert_eq!(built.values.map(|v| v.0), Some(T::values(&args)), "{} on {backend:?}", T::NAME);
        }
        T::SLOT
    }

    #[test]
    fn every_template_binds_and_selects_what_seaorm_builds_in_a_slot_of_its_own() {
        let id = Uuid::now_v7();
        let slots = [
            check::<UserByEmail>("ana@example.com"),
            check::<UserById>(id),
            check::<TokenByHash>("h"),
            check::<TokenById>(id),
            check::<RolesWithAssignment>(id),
        ];
        let mut sorted = slots.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), slots.len(), "{slots:?}");
        assert!(slots.iter().all(|s| *s < SLOTS));
    }

    #[test]
    fn a_texts_slot_keeps_its_first_text() {
        let texts = Texts::default();
        let first = texts.get_or_try::<UserById>(|| Ok(Arc::from("a"))).map_err(|e| e.to_string());
        let second = texts.get_or_try::<UserById>(|| Ok(Arc::from("b"))).map_err(|e| e.to_string());
        assert_eq!(first.as_deref().ok(), Some("a"));
        assert_eq!(second.as_deref().ok(), Some("a"));
        let other = texts.get_or_try::<UserByEmail>(|| Ok(Arc::from("c"))).map_err(|e| e.to_string());
        assert_eq!(other.as_deref().ok(), Some("c"));
    }
}
