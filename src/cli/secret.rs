//! `hellojohn-store secret seal`: the `enc:v1:` ciphertext of a value read from stdin, bound
//! to a tenant and a field exactly as the store seals it (`crate::crypto::SecretBox`, key
//! from `HJ_SECRET_KEY`), for a hand-written tenant YAML file.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::adapters::fs::validate_slug;
use crate::crypto::{SECRET_KEY_ENV, SecretBox, fields};

use super::fail;

/// Flags of `hellojohn-store secret`.
#[derive(Debug, Args)]
pub(crate) struct SecretArgs {
    #[command(subcommand)]
    command: SecretCommand,
}

#[derive(Debug, Subcommand)]
enum SecretCommand {
    /// Read a secret from stdin (one trailing newline dropped) and print its `enc:v1:`
    /// ciphertext for FIELD of TENANT, under the key in HJ_SECRET_KEY. The ciphertext opens
    /// only for that tenant and field. Exit 0 on success, 2 when the field, the tenant slug,
    /// the key or the input is refused.
    Seal {
        /// Slug of the tenant the secret belongs to (the tenant need not exist yet).
        #[arg(long)]
        tenant: String,
        /// Field the secret is for: user_db.dsn, cache.password, smtp.password,
        /// social_providers.<provider>.client_secret or clients.<client_id>.secret.
        #[arg(long)]
        field: String,
    },
}

pub(crate) fn run(args: SecretArgs) -> ExitCode {
    match args.command {
        SecretCommand::Seal { tenant, field } => seal(&tenant, &field),
    }
}

fn seal(tenant: &str, field: &str) -> ExitCode {
    if let Err(e) = fields::check(field) {
        return fail(&e.to_string(), 2);
    }
    if let Err(e) = validate_slug(tenant) {
        return fail(&e.to_string(), 2);
    }
    let key = match SecretBox::from_env() {
        Ok(key) => key,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("enter the value of {field} for {tenant}, then end the input (Ctrl-D):");
    }
    // A secret is a password or an API key: anything longer than a TEXT column is a mistake
    // (a file piped in by accident), refused before it is read whole.
    let limit = crate::model::MAX_TEXT_BYTES;
    let mut bytes = Vec::new();
    if let Err(e) = stdin.lock().take(limit as u64 + 2).read_to_end(&mut bytes) {
        return fail(&format!("reading the secret from stdin: {e}"), 2);
    }
    if bytes.len() > limit + 1 {
        return fail(&format!("the secret on stdin is longer than {limit} bytes"), 2);
    }
    let Ok(mut value) = String::from_utf8(bytes) else {
        return fail("the secret on stdin is not UTF-8", 2);
    };
    strip_one_newline(&mut value);
    if value.is_empty() {
        return fail("the secret on stdin is empty: nothing to seal", 2);
    }
    if value.len() > limit {
        return fail(&format!("the secret on stdin is longer than {limit} bytes"), 2);
    }
    match key.encrypt(tenant, field, &value) {
        Ok(sealed) => {
            println!("{}", sealed.ciphertext().unwrap_or_default());
            eprintln!("{} of tenant {tenant}: {}", field, where_it_goes(tenant, field));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("{e} (key from {SECRET_KEY_ENV})"), 1),
    }
}

/// Drops one trailing `\n` (or `\r\n`): what `echo` or a heredoc adds, not part of the value.
fn strip_one_newline(value: &mut String) {
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
}

/// Where the ciphertext goes in the tree, for the hint printed on stderr.
fn where_it_goes(tenant: &str, field: &str) -> String {
    if let Some(client) = field.strip_prefix("clients.").and_then(|f| f.strip_suffix(".secret")) {
        format!("`secret:` of the client `{client}` in tenants/{tenant}/clients.yaml")
    } else {
        format!("`settings.{field}` in tenants/{tenant}/tenant.yaml")
    }
}
