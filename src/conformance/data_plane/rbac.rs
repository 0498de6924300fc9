//! Cases of [`RbacRepository`](crate::repository::RbacRepository): roles, permissions,
//! assignments, inheritance (with cycles) and system roles.

use std::collections::BTreeSet;
use std::time::Duration;

use uuid::Uuid;

use super::support::{assert_conflict, assert_invalid, assert_not_found, new_user};
use crate::conformance::DataPlane;
use crate::model::RoleInput;

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A created role is read back with every field, and roles are listed by name.
pub async fn rbac_create_role_then_get_and_list_by_name(store: &DataPlane) {
    let rbac = store.rbac();
    let mut input = RoleInput::new("viewer", ["users:read", "clients:read"]);
    input.description = Some("Reads things".into());
    let viewer = rbac.create_role(input).await.expect("create viewer");
    assert_eq!(viewer.name, "viewer");
    assert_eq!(viewer.description.as_deref(), Some("Reads things"));
    assert_eq!(viewer.permissions, set(&["clients:read", "users:read"]));
    assert_eq!(viewer.inherits_from, None);
    assert!(!viewer.system);
    assert!(viewer.created_at <= viewer.updated_at);
    assert_eq!(rbac.get_role("viewer").await.expect("get"), viewer);

    let mut admin = RoleInput::new("admin", ["all"]);
    admin.inherits_from = Some("viewer".into());
    admin.system = true;
    let admin = rbac.create_role(admin).await.expect("create admin");
    assert!(admin.system);
    assert_eq!(admin.inherits_from.as_deref(), Some("viewer"));
    let names: Vec<String> = rbac.list_roles().await.expect("list").into_iter().map(|r| r.name).collect();
    assert_eq!(names, strings(&["admin", "viewer"]));
}

/// Creating a role whose name exists is `Conflict`, an empty name or one with leading or
/// trailing whitespace is `InvalidInput`, an unknown parent is `NotFound`; the existing role is unchanged and nothing is created.
pub async fn rbac_create_role_rejects_duplicate_empty_name_and_unknown_parent(store: &DataPlane) {
    let rbac = store.rbac();
    let original = rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("create");
    assert_conflict(rbac.create_role(RoleInput::new("viewer", ["write"])).await, "duplicate name");
    assert_invalid(rbac.create_role(RoleInput::new("", ["read"])).await, "empty name");
    assert_invalid(rbac.create_role(RoleInput::new(" viewer ", ["read"])).await, "padded name");
    assert_not_found(rbac.get_role(" viewer ").await, "a padded name is not stored");
    let mut orphan = RoleInput::new("orphan", ["x"]);
    orphan.inherits_from = Some("ghost".into());
    assert_not_found(rbac.create_role(orphan).await, "unknown parent");
    assert_eq!(rbac.get_role("viewer").await.expect("get"), original);
    assert_not_found(rbac.get_role("orphan").await, "refused role not created");
    assert_eq!(rbac.list_roles().await.expect("list").len(), 1);
}

/// Every call naming an unknown role is `NotFound`.
pub async fn rbac_calls_on_unknown_role_are_not_found(store: &DataPlane) {
    let rbac = store.rbac();
    rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("create");
    assert_not_found(rbac.get_role("ghost").await, "get_role");
    assert_not_found(rbac.get_role_permissions("ghost").await, "get_role_permissions");
    assert_not_found(rbac.add_permission_to_role("ghost", "x").await, "add_permission_to_role");
    assert_not_found(rbac.remove_permission_from_role("ghost", "x").await, "remove_permission_from_role");
    assert_not_found(rbac.update_role("ghost", RoleInput::new("ghost", ["x"])).await, "update_role");
    assert_not_found(rbac.delete_role("ghost").await, "delete_role");
    assert_not_found(rbac.role_user_count("ghost").await, "role_user_count");
    assert_eq!(rbac.get_role_permissions("viewer").await.expect("viewer intact"), strings(&["read"]));
}

/// Updating a role replaces description, permissions and parent, but keeps its name, id,
/// creation time and system flag; other roles are untouched.
pub async fn rbac_update_role_replaces_fields_but_keeps_name_and_system_flag(store: &DataPlane) {
    let rbac = store.rbac();
    let base = rbac.create_role(RoleInput::new("base", ["read"])).await.expect("create base");
    let mut editor = RoleInput::new("editor", ["write", "publish"]);
    editor.description = Some("old".into());
    editor.system = true;
    let before = rbac.create_role(editor).await.expect("create editor");

    let mut change = RoleInput::new("renamed", ["write", "review"]);
    change.description = Some("new".into());
    change.inherits_from = Some("base".into());
    change.system = false;
    let after = rbac.update_role("editor", change).await.expect("update");
    assert_eq!(after.name, "editor", "the name is immutable");
    assert_eq!(after.id, before.id);
    assert_eq!(after.created_at, before.created_at);
    assert!(after.system, "update_role does not change the system flag");
    assert_eq!(after.description.as_deref(), Some("new"));
    assert_eq!(after.permissions, set(&["review", "write"]));
    assert_eq!(after.inherits_from.as_deref(), Some("base"));
    assert!(after.updated_at >= before.updated_at);
    assert_eq!(rbac.get_role("editor").await.expect("get"), after);
    assert_not_found(rbac.get_role("renamed").await, "no role under the new name");
    assert_eq!(rbac.get_role("base").await.expect("base"), base);

    let mut clear = RoleInput::new("editor", ["write"]);
    clear.description = None;
    clear.inherits_from = None;
    let cleared = rbac.update_role("editor", clear).await.expect("clear parent");
    assert_eq!(cleared.inherits_from, None);
    assert_eq!(cleared.description, None);
}

/// Updating a role to inherit from an unknown role is `NotFound` and changes nothing.
pub async fn rbac_update_role_with_unknown_parent_is_not_found(store: &DataPlane) {
    let rbac = store.rbac();
    let before = rbac.create_role(RoleInput::new("editor", ["write"])).await.expect("create");
    let mut change = RoleInput::new("editor", ["other"]);
    change.inherits_from = Some("ghost".into());
    assert_not_found(rbac.update_role("editor", change).await, "unknown parent");
    assert_eq!(rbac.get_role("editor").await.expect("get"), before);
}

/// Adding and removing permissions are idempotent, keep the list sorted, refuse an empty
/// permission, and touch only the named role.
pub async fn rbac_role_permissions_add_and_remove_idempotently(store: &DataPlane) {
    let rbac = store.rbac();
    rbac.create_role(RoleInput::new("editor", ["write"])).await.expect("create editor");
    let other = rbac.create_role(RoleInput::new("other", ["write"])).await.expect("create other");
    rbac.add_permission_to_role("editor", "read").await.expect("add");
    rbac.add_permission_to_role("editor", "read").await.expect("add again");
    rbac.add_permission_to_role("editor", "admin").await.expect("add admin");
    assert_eq!(
        rbac.get_role_permissions("editor").await.expect("perms"),
        strings(&["admin", "read", "write"])
    );
    rbac.remove_permission_from_role("editor", "write").await.expect("remove");
    rbac.remove_permission_from_role("editor", "write").await.expect("remove again");
    rbac.remove_permission_from_role("editor", "never-had").await.expect("remove absent");
    assert_eq!(rbac.get_role_permissions("editor").await.expect("perms"), strings(&["admin", "read"]));
    assert_invalid(rbac.add_permission_to_role("editor", "").await, "empty permission");
    assert_eq!(rbac.get_role_permissions("editor").await.expect("perms"), strings(&["admin", "read"]));
    assert_eq!(rbac.get_role("other").await.expect("other"), other);
}

/// Assigning a role is idempotent; a user's roles are listed sorted; other users have none.
pub async fn rbac_assign_role_is_idempotent_and_roles_are_sorted(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("viewer");
    rbac.create_role(RoleInput::new("editor", ["write"])).await.expect("editor");
    rbac.assign_role(ana, "viewer").await.expect("assign viewer");
    rbac.assign_role(ana, "editor").await.expect("assign editor");
    rbac.assign_role(ana, "viewer").await.expect("assign viewer again");
    assert_eq!(rbac.get_user_roles(ana).await.expect("roles"), strings(&["editor", "viewer"]));
    assert_eq!(rbac.role_user_count("viewer").await.expect("count"), 1);
    assert!(rbac.get_user_roles(bob).await.expect("bob roles").is_empty());
    assert!(rbac.get_user_permissions(bob).await.expect("bob perms").is_empty());
}

/// Assigning an unknown role, or a role to an unknown user, is `NotFound` and assigns
/// nothing.
pub async fn rbac_assign_unknown_role_or_user_is_not_found(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("viewer");
    assert_not_found(rbac.assign_role(ana, "ghost").await, "unknown role");
    assert_not_found(rbac.assign_role(Uuid::now_v7(), "viewer").await, "unknown user");
    assert!(rbac.get_user_roles(ana).await.expect("roles").is_empty());
    assert_eq!(rbac.role_user_count("viewer").await.expect("count"), 0);
}

/// Removing a role from a user is idempotent and keeps the user's other roles and other
/// users' assignments.
pub async fn rbac_remove_role_is_idempotent_and_keeps_other_assignments(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("viewer");
    rbac.create_role(RoleInput::new("editor", ["write"])).await.expect("editor");
    rbac.assign_role(ana, "viewer").await.expect("ana viewer");
    rbac.assign_role(ana, "editor").await.expect("ana editor");
    rbac.assign_role(bob, "viewer").await.expect("bob viewer");
    rbac.remove_role(ana, "viewer").await.expect("remove");
    rbac.remove_role(ana, "viewer").await.expect("remove again");
    rbac.remove_role(ana, "ghost").await.expect("remove unknown role");
    assert_eq!(rbac.get_user_roles(ana).await.expect("ana"), strings(&["editor"]));
    assert_eq!(rbac.get_user_roles(bob).await.expect("bob"), strings(&["viewer"]));
    assert_eq!(rbac.role_user_count("viewer").await.expect("count"), 1);
}

/// A user's effective permissions are those of its roles and of every ancestor role,
/// sorted and without duplicates; later permission changes on an ancestor show through.
pub async fn rbac_user_permissions_include_inherited_ones(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    rbac.create_role(RoleInput::new("viewer", ["read", "list"])).await.expect("viewer");
    let mut editor = RoleInput::new("editor", ["write", "read"]);
    editor.inherits_from = Some("viewer".into());
    rbac.create_role(editor).await.expect("editor");
    let mut publisher = RoleInput::new("publisher", ["publish"]);
    publisher.inherits_from = Some("editor".into());
    rbac.create_role(publisher).await.expect("publisher");
    rbac.create_role(RoleInput::new("auditor", ["audit"])).await.expect("auditor");

    rbac.assign_role(ana, "publisher").await.expect("assign");
    assert_eq!(
        rbac.get_user_permissions(ana).await.expect("perms"),
        strings(&["list", "publish", "read", "write"])
    );
    rbac.add_permission_to_role("viewer", "export").await.expect("add to ancestor");
    rbac.assign_role(ana, "auditor").await.expect("assign auditor");
    assert_eq!(
        rbac.get_user_permissions(ana).await.expect("perms"),
        strings(&["audit", "export", "list", "publish", "read", "write"])
    );
    assert_eq!(rbac.get_role_permissions("publisher").await.expect("direct only"), strings(&["publish"]));
}

/// An inheritance cycle (a → b → c → a) does not hang the permission walk: the user gets
/// the union of the cycle's permissions.
pub async fn rbac_user_permissions_tolerate_an_inheritance_cycle(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    rbac.create_role(RoleInput::new("a", ["pa"])).await.expect("a");
    let mut b = RoleInput::new("b", ["pb"]);
    b.inherits_from = Some("a".into());
    rbac.create_role(b).await.expect("b");
    let mut c = RoleInput::new("c", ["pc"]);
    c.inherits_from = Some("b".into());
    rbac.create_role(c).await.expect("c");
    let mut close = RoleInput::new("a", ["pa"]);
    close.inherits_from = Some("c".into());
    rbac.update_role("a", close).await.expect("close the cycle");

    rbac.assign_role(ana, "b").await.expect("assign");
    let perms = tokio::time::timeout(Duration::from_secs(10), rbac.get_user_permissions(ana))
        .await
        .expect("permission walk must terminate on a cycle")
        .expect("perms");
    assert_eq!(perms, strings(&["pa", "pb", "pc"]));
}

/// Deleting a system role is refused with `InvalidInput`; the role and its assignments stay.
pub async fn rbac_delete_role_is_refused_for_a_system_role(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    let mut owner = RoleInput::new("owner", ["all"]);
    owner.system = true;
    let owner = rbac.create_role(owner).await.expect("create");
    rbac.assign_role(ana, "owner").await.expect("assign");
    assert_invalid(rbac.delete_role("owner").await, "system role");
    assert_eq!(rbac.get_role("owner").await.expect("still there"), owner);
    assert_eq!(rbac.get_user_roles(ana).await.expect("roles"), strings(&["owner"]));
}

/// Deleting a role removes it and its assignments, and leaves other roles and assignments;
/// a role that inherited from it no longer does, so a new role of the same name grants
/// nothing to it.
pub async fn rbac_delete_role_removes_role_and_its_assignments(store: &DataPlane) {
    let rbac = store.rbac();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    rbac.create_role(RoleInput::new("temp", ["t"])).await.expect("temp");
    let keep = rbac.create_role(RoleInput::new("keep", ["k"])).await.expect("keep");
    let mut child = RoleInput::new("child", ["c"]);
    child.inherits_from = Some("temp".into());
    rbac.create_role(child).await.expect("child");
    rbac.assign_role(bob, "child").await.expect("assign child");
    rbac.assign_role(ana, "temp").await.expect("assign temp");
    rbac.assign_role(ana, "keep").await.expect("assign keep");
    rbac.delete_role("temp").await.expect("delete");
    assert_not_found(rbac.get_role("temp").await, "deleted role");
    assert_eq!(rbac.get_user_roles(ana).await.expect("roles"), strings(&["keep"]));
    assert_eq!(rbac.get_user_permissions(ana).await.expect("perms"), strings(&["k"]));
    assert_eq!(rbac.get_role("keep").await.expect("keep"), keep);
    assert_eq!(rbac.get_role("child").await.expect("child").inherits_from, None);
    rbac.create_role(RoleInput::new("temp", ["t2"])).await.expect("the name can be reused");
    assert_eq!(rbac.role_user_count("temp").await.expect("count"), 0, "old assignments are gone");
    assert_eq!(rbac.get_user_permissions(bob).await.expect("bob"), strings(&["c"]));
}

/// The user count of a role counts the users that hold it.
pub async fn rbac_role_user_count_counts_holders(store: &DataPlane) {
    let rbac = store.rbac();
    rbac.create_role(RoleInput::new("viewer", ["read"])).await.expect("viewer");
    rbac.create_role(RoleInput::new("editor", ["write"])).await.expect("editor");
    for i in 0..3 {
        let user = new_user(store, &format!("u{i}@example.com")).await;
        rbac.assign_role(user, "viewer").await.expect("assign");
    }
    assert_eq!(rbac.role_user_count("viewer").await.expect("viewer"), 3);
    assert_eq!(rbac.role_user_count("editor").await.expect("editor"), 0);
}

/// Twenty tasks adding different permissions to one role at once: none is lost.
pub async fn rbac_concurrent_permission_additions_are_all_kept(store: &DataPlane) {
    store.rbac().create_role(RoleInput::new("busy", ["base"])).await.expect("create");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let rbac = store.rbac();
            tokio::spawn(async move { rbac.add_permission_to_role("busy", &format!("p{i:02}")).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked").expect("concurrent add_permission_to_role");
    }
    let perms = store.rbac().get_role_permissions("busy").await.expect("perms");
    assert_eq!(perms.len(), 21, "every concurrent addition kept: {perms:?}");
}
