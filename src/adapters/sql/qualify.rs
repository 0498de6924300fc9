//! Naming the tenant's namespace in every statement.
//!
//! Tenants of one server share its connection pool, so no connection carries a tenant's
//! namespace as session state (`search_path`, `USE`). Instead every statement a repository
//! sends passes through [`qualify`], which prefixes each table reference — the name after
//! `FROM`, `JOIN`, `INTO`, `UPDATE` (and every further item of a comma-separated `FROM`
//! list) — with the tenant's schema (PostgreSQL) or database (MySQL/MariaDB). Column
//! qualifiers (`"users"."id"`) are left alone: both engines match them against the `FROM`
//! item of that name, whatever its schema.
//!
//! The rewrite fails closed: a table reference that already names a namespace (`"a"."b"`
//! after `FROM`) is refused, and so is a statement holding what the lexer does not follow
//! (comments, PostgreSQL dollar quotes) — SeaORM never writes either — so a statement can
//! only ever reach the namespace of the connection that sends it. String literals (`'…'`,
//! PostgreSQL `E'…'`, MySQL `"…"` and backslash escapes) and quoted identifiers are skipped
//! whole, so a value inside a statement (values are bound parameters anyway) cannot move
//! it. A name after `FROM` that is not a table (`EXTRACT(YEAR FROM ts)`) is qualified too
//! and fails at the server: the store's statements use none.

use std::fmt::Write as _;

/// How an engine quotes identifiers and strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `"ident"`, `'string'` with `''`.
    Postgres,
    /// `` `ident` ``, `'string'` with `''` or `\'`.
    MySql,
}

impl Dialect {
    fn quote(self) -> char {
        match self {
            Dialect::Postgres => '"',
            Dialect::MySql => '`',
        }
    }
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// A bare word (keyword or unquoted identifier).
    Word(&'a str),
    /// A quoted identifier, with its quotes.
    Quoted(&'a str),
    /// Any other single character (punctuation, operators).
    Punct(char),
    /// A string literal, a number, a parameter: passed through.
    Other,
    /// Something the store's statements never hold and the lexer does not follow (a
    /// comment, a dollar-quoted string): the statement is refused.
    Unknown(&'static str),
}

struct Lexer<'a> {
    sql: &'a str,
    pos: usize,
    dialect: Dialect,
}

impl<'a> Lexer<'a> {
    /// The next token and its byte range, skipping whitespace.
    fn next(&mut self) -> Option<(Tok<'a>, usize, usize)> {
        let bytes = self.sql.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let c = *bytes.get(start)?;
        let q = self.dialect.quote() as u8;
        let next = bytes.get(start + 1).copied();
        let comment = (c == b'-' && next == Some(b'-'))
            || (c == b'/' && next == Some(b'*'))
            || (c == b'#' && self.dialect == Dialect::MySql);
        let tok = if comment {
            self.pos = bytes.len();
            Tok::Unknown("a comment")
        } else if c == b'$' && self.dialect == Dialect::Postgres && !next.is_some_and(|n| n.is_ascii_digit())
        {
            self.pos = bytes.len();
            Tok::Unknown("a dollar-quoted string")
        } else if (c == b'e' || c == b'E') && next == Some(b'\'') && self.dialect == Dialect::Postgres {
            // E'…': backslash escapes.
            self.pos = skip_string(bytes, start + 1, b'\'', true);
            Tok::Other
        } else if c == b'"' && self.dialect == Dialect::MySql {
            self.pos = skip_string(bytes, start, b'"', true);
            Tok::Other
        } else if c == q {
            // Quoted identifier; a doubled quote is an escaped quote.
            let mut i = start + 1;
            loop {
                match bytes.get(i) {
                    None => break,
                    Some(&b) if b == q => {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            self.pos = i;
            Tok::Quoted(&self.sql[start..i])
        } else if c == b'\'' {
            self.pos = skip_string(bytes, start, b'\'', self.dialect == Dialect::MySql);
            Tok::Other
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut i = start + 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            self.pos = i;
            Tok::Word(&self.sql[start..i])
        } else if c.is_ascii_digit() || c == b'$' || c == b'?' {
            let mut i = start + 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            self.pos = i;
            Tok::Other
        } else {
            // One character (UTF-8 aware).
            let ch = self.sql[start..].chars().next()?;
            self.pos = start + ch.len_utf8();
            Tok::Punct(ch)
        };
        Some((tok, start, self.pos))
    }
}

/// The end of the string literal opening at `start` (quote `quote`; doubled quotes, and
/// backslash escapes when `backslash`).
fn skip_string(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => break,
            Some(b'\\') if backslash => i += 2,
            Some(&b) if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    i += 1;
                    break;
                }
            }
            Some(_) => i += 1,
        }
    }
    i.min(bytes.len())
}

fn is_kw(tok: Tok<'_>, kw: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

/// `sql` with every table reference prefixed by `namespace` (see the module documentation).
///
/// Errors: [`Refused`] for a table reference that already names a namespace.
pub(crate) fn qualify(sql: &str, namespace: &str, dialect: Dialect) -> Result<String, Refused> {
    let q = dialect.quote();
    let mut prefix = String::with_capacity(namespace.len() + 3);
    prefix.push(q);
    for c in namespace.chars() {
        if c == q {
            prefix.push(q);
        }
        prefix.push(c);
    }
    prefix.push(q);
    prefix.push('.');

    let mut out = String::with_capacity(sql.len() + 4 * (prefix.len()));
    let mut lexer = Lexer { sql, pos: 0, dialect };
    let mut copied = 0;
    // The token before the current one.
    let mut prev: Option<Tok<'_>> = None;
    // Inside a FROM list at this parenthesis depth (a comma there introduces another table).
    let mut depth: i32 = 0;
    let mut from_list_depth: Option<i32> = None;
    let mut expect_table = false;
    while let Some((tok, start, end)) = lexer.next() {
        if let Tok::Unknown(what) = tok {
            return Err(Refused(format!(
                "statement holds {what}, which the store never sends: {}",
                truncate(sql)
            )));
        }
        match tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                if from_list_depth == Some(depth) {
                    from_list_depth = None;
                }
                depth -= 1;
            }
            _ => {}
        }
        if expect_table {
            expect_table = false;
            if let Tok::Word(_) | Tok::Quoted(_) = tok {
                // Already qualified (`x.y`)? Look at the next character.
                let rest = sql[end..].trim_start();
                if rest.starts_with('.') {
                    return Err(Refused(format!(
                        "statement names a namespace of its own ({}): {}",
                        &sql[start..end],
                        truncate(sql)
                    )));
                }
                out.push_str(&sql[copied..start]);
                out.push_str(&prefix);
                match tok {
                    // A bare name: quoted, so that prefix and name form one reference.
                    Tok::Word(w) if dialect == Dialect::Postgres => {
                        // PostgreSQL folds an unquoted name to lower case.
                        let _ = write!(out, "{q}{}{q}", w.to_ascii_lowercase());
                    }
                    Tok::Word(w) => {
                        let _ = write!(out, "{q}{w}{q}");
                    }
                    _ => out.push_str(&sql[start..end]),
                }
                copied = end;
                prev = Some(tok);
                continue;
            }
        }
        let table_next = match tok {
            // `DELETE … USING a, b` and `UPDATE a, b` (MySQL) list tables like `FROM`.
            t if is_kw(t, "FROM") || is_kw(t, "USING") => {
                from_list_depth = Some(depth);
                true
            }
            t if is_kw(t, "JOIN") || is_kw(t, "INTO") || is_kw(t, "TABLE") => true,
            // `ON DUPLICATE KEY UPDATE col = …` names a column.
            t if is_kw(t, "UPDATE") => {
                let table = !prev.is_some_and(|p| is_kw(p, "KEY") || is_kw(p, "DO") || is_kw(p, "FOR"));
                if table {
                    from_list_depth = Some(depth);
                }
                table
            }
            Tok::Punct(',') => from_list_depth == Some(depth),
            _ => false,
        };
        if let Tok::Word(w) = tok
            && from_list_depth == Some(depth)
            && [
                "WHERE",
                "GROUP",
                "ORDER",
                "LIMIT",
                "HAVING",
                "FOR",
                "LOCK",
                "UNION",
                "ON",
                "USING",
                "SET",
                "VALUES",
                "RETURNING",
                "OFFSET",
                "WINDOW",
            ]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k))
        {
            from_list_depth = None;
        }
        expect_table = table_next;
        prev = Some(tok);
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// The byte offsets of the `?` placeholders of `sql` (MySQL dialect), in order: string
/// literals and quoted identifiers are skipped whole, so a `?` inside them is not one.
///
/// Errors: [`Refused`] for what the lexer does not follow (a comment) and for a `?` run
/// into other characters (`?1`), which SeaORM never writes.
pub(crate) fn placeholders(sql: &str, dialect: Dialect) -> Result<Vec<usize>, Refused> {
    let mut lexer = Lexer { sql, pos: 0, dialect };
    let mut at = Vec::new();
    while let Some((tok, start, end)) = lexer.next() {
        match tok {
            Tok::Unknown(what) => {
                return Err(Refused(format!(
                    "statement holds {what}, which the store never sends: {}",
                    truncate(sql)
                )));
            }
            Tok::Other if sql.as_bytes()[start] == b'?' => {
                if end != start + 1 {
                    return Err(Refused(format!("a placeholder the store never writes: {}", truncate(sql))));
                }
                at.push(start);
            }
            _ => {}
        }
    }
    Ok(at)
}

fn truncate(sql: &str) -> String {
    let mut end = sql.len().min(200);
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    sql[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> String {
        qualify(sql, "acme", Dialect::Postgres).unwrap()
    }

    #[test]
    fn select_with_join_and_column_qualifiers() {
        assert_eq!(
            pg(
                r#"SELECT "users"."id" FROM "users" INNER JOIN "identities" ON "users"."id" = "identities"."user_id" WHERE "users"."email" = $1"#
            ),
            r#"SELECT "users"."id" FROM "acme"."users" INNER JOIN "acme"."identities" ON "users"."id" = "identities"."user_id" WHERE "users"."email" = $1"#
        );
    }

    #[test]
    fn insert_update_delete() {
        assert_eq!(
            pg(r#"INSERT INTO "users" ("id") VALUES ($1)"#),
            r#"INSERT INTO "acme"."users" ("id") VALUES ($1)"#
        );
        assert_eq!(pg(r#"UPDATE "users" SET "a" = $1"#), r#"UPDATE "acme"."users" SET "a" = $1"#);
        assert_eq!(
            pg(r#"DELETE FROM "users" WHERE "id" = $1"#),
            r#"DELETE FROM "acme"."users" WHERE "id" = $1"#
        );
        assert_eq!(
            pg(r#"INSERT INTO "t" ("a") VALUES ($1) ON CONFLICT ("a") DO UPDATE SET "a" = "excluded"."a""#),
            r#"INSERT INTO "acme"."t" ("a") VALUES ($1) ON CONFLICT ("a") DO UPDATE SET "a" = "excluded"."a""#
        );
        assert_eq!(
            pg(r#"SELECT "id" FROM "t" WHERE "id" = $1 FOR UPDATE"#),
            r#"SELECT "id" FROM "acme"."t" WHERE "id" = $1 FOR UPDATE"#
        );
    }

    #[test]
    fn subqueries_and_from_lists() {
        assert_eq!(
            pg(
                r#"SELECT COUNT(*) AS num_items FROM (SELECT "id" FROM "users" WHERE "id" IN (SELECT "user_id" FROM "identities")) AS "sub_query""#
            ),
            r#"SELECT COUNT(*) AS num_items FROM (SELECT "id" FROM "acme"."users" WHERE "id" IN (SELECT "user_id" FROM "acme"."identities")) AS "sub_query""#
        );
        assert_eq!(
            pg(r#"SELECT 1 FROM "a", "b" WHERE "a"."x" = "b"."x""#),
            r#"SELECT 1 FROM "acme"."a", "acme"."b" WHERE "a"."x" = "b"."x""#
        );
        assert_eq!(pg("SELECT x, y FROM t, u"), r#"SELECT x, y FROM "acme"."t", "acme"."u""#);
        // A comma after the FROM list (in a function call) is not a table.
        assert_eq!(
            pg(r#"SELECT 1 FROM "a" WHERE COALESCE("x", $1) = $2"#),
            r#"SELECT 1 FROM "acme"."a" WHERE COALESCE("x", $1) = $2"#
        );
    }

    #[test]
    fn literals_and_quoted_names_are_skipped_whole() {
        assert_eq!(
            pg(r#"SELECT 'FROM "x"' AS "FROM y" FROM "t" WHERE "a" LIKE $1 ESCAPE '!'"#),
            r#"SELECT 'FROM "x"' AS "FROM y" FROM "acme"."t" WHERE "a" LIKE $1 ESCAPE '!'"#
        );
    }

    #[test]
    fn already_qualified_is_refused() {
        assert!(qualify(r#"SELECT 1 FROM "other"."users""#, "acme", Dialect::Postgres).is_err());
        assert!(qualify("DELETE FROM other.users", "acme", Dialect::Postgres).is_err());
        assert!(qualify("SELECT 1 FROM `other` . `users`", "acme", Dialect::MySql).is_err());
    }

    #[test]
    fn what_the_lexer_does_not_follow_is_refused() {
        for sql in [
            "SELECT 1 /* don't */ FROM t",
            "SELECT 1 -- it's\n FROM t",
            "SELECT $$ ' $$ FROM t",
            "SELECT $tag$ x $tag$ FROM t",
            "SELECT 1 FROM a/**/.b",
        ] {
            assert!(qualify(sql, "acme", Dialect::Postgres).is_err(), "{sql}");
        }
        assert!(qualify("SELECT 1 # it's\n FROM t", "acme", Dialect::MySql).is_err());
        // Parameters are not dollar quotes.
        assert_eq!(pg("SELECT 1 FROM t WHERE a = $1"), r#"SELECT 1 FROM "acme"."t" WHERE a = $1"#);
    }

    #[test]
    fn escaped_strings_using_and_update_lists() {
        assert_eq!(pg(r"SELECT E'\'' FROM t"), r#"SELECT E'\'' FROM "acme"."t""#);
        assert_eq!(
            qualify(r#"SELECT "it's" FROM t"#, "n", Dialect::MySql).unwrap(),
            r#"SELECT "it's" FROM `n`.`t`"#
        );
        assert_eq!(
            pg("DELETE FROM a USING b WHERE a.x = b.x"),
            r#"DELETE FROM "acme"."a" USING "acme"."b" WHERE a.x = b.x"#
        );
        assert_eq!(
            qualify("UPDATE a, b SET a.x = b.x", "n", Dialect::MySql).unwrap(),
            "UPDATE `n`.`a`, `n`.`b` SET a.x = b.x"
        );
        assert_eq!(pg("SELECT 1 FROM (TABLE t) AS s"), r#"SELECT 1 FROM (TABLE "acme"."t") AS s"#);
    }

    #[test]
    fn mysql() {
        assert_eq!(
            qualify(
                "INSERT INTO `t` (`a`) VALUES (?) ON DUPLICATE KEY UPDATE `a` = VALUES(`a`)",
                "hj_acme",
                Dialect::MySql
            )
            .unwrap(),
            "INSERT INTO `hj_acme`.`t` (`a`) VALUES (?) ON DUPLICATE KEY UPDATE `a` = VALUES(`a`)"
        );
        assert_eq!(
            qualify(
                r"SELECT 1 FROM `t` WHERE `a` = 'it\'s FROM `x`' LOCK IN SHARE MODE",
                "n",
                Dialect::MySql
            )
            .unwrap(),
            r"SELECT 1 FROM `n`.`t` WHERE `a` = 'it\'s FROM `x`' LOCK IN SHARE MODE"
        );
    }
}
