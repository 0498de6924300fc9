#!/usr/bin/env bash
# The tenant YAML against the JSON Schemas, checked by the tools deployments use in their own
# CI and editors, at pinned versions: check-jsonschema (PyPI), ajv-cli with ajv-formats
# (npm; --spec=draft2020, strict) and yaml-language-server (npm; the language service VS Code's
# YAML extension runs, driven by scripts/yaml-ls-validate.js).
#   1. every file of examples/data passes every tool;
#   2. every broken fixture (tests/fixtures/broken) gets the same verdict from every tool, and
#      the fixtures the tools refuse are exactly SCHEMA_CATCHES below (the others break a rule
#      only `hellojohn-store validate` can see: across files, or in values a schema cannot
#      judge).
# The tools are installed under $HJ_SCHEMA_TOOLS (default ~/.cache/hellojohn-schema-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_JSONSCHEMA=0.39.0
AJV_CLI=5.0.0
AJV_FORMATS=3.0.1
AJV_FORMATS_DRAFT2019=1.6.1
YAML_LANGUAGE_SERVER=2.0.0
TOOLS="${HJ_SCHEMA_TOOLS:-$HOME/.cache/hellojohn-schema-tools}"

# Fixtures whose every problem a schema can see (so every tool must refuse them).
SCHEMA_CATCHES=" bad-admin-email-and-hash bad-client-id bad-redirect-uri-http bad-slug bad-uuid-and-date confidential-client-without-secret duplicate-key empty-file every-problem-of-a-file integer-overflow-i64 integer-overflow-u32 logo-url-not-a-url missing-required-field plain-text-client-secret plain-text-tenant-dsn public-client-with-client-credentials public-client-with-secret redirect-uri-fragment schema-custom-issuer-without-override schema-public-client-sets select-field-without-options unknown-key wrong-enum-value wrong-type yaml-syntax-error yaml-tag-not-allowed "
# Where a tool cannot follow the schema (fixture:tool=verdict). JavaScript numbers are
# doubles: 9223372036854775808 rounds to the i64 maximum, so the npm tools accept it.
EXCEPTIONS=" integer-overflow-i64:ajv=accepted integer-overflow-i64:yaml-language-server=accepted "

install() {
  mkdir -p "$TOOLS"
  if ! "$TOOLS/venv/bin/check-jsonschema" --version 2>/dev/null | grep -q "version $CHECK_JSONSCHEMA\$"; then
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install -q "check-jsonschema==$CHECK_JSONSCHEMA"
  fi
  local want="ajv-cli@$AJV_CLI ajv-formats@$AJV_FORMATS ajv-formats-draft2019@$AJV_FORMATS_DRAFT2019 yaml-language-server@$YAML_LANGUAGE_SERVER"
  if [ "$(cat "$TOOLS/node/.installed" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$TOOLS/node"
    # shellcheck disable=SC2086
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" $want
    echo "$want" > "$TOOLS/node/.installed"
  fi
}

schema_of() {
  case "$1" in
    */admins/admins.yaml) echo schemas/admins.schema.json ;;
    */admins/refresh_tokens.yaml) echo schemas/admin-refresh-tokens.schema.json ;;
    */tenant.yaml) echo schemas/tenant.schema.json ;;
    */clients.yaml) echo schemas/clients.schema.json ;;
    */scopes.yaml) echo schemas/scopes.schema.json ;;
    *) echo "" ;;
  esac
}

# run TOOL SCHEMA FILE: exit 0 when the tool accepts the file; its output on stdout.
run() {
  case "$1" in
    check-jsonschema) "$TOOLS/venv/bin/check-jsonschema" --schemafile "$2" "$3" ;;
    ajv) NODE_PATH="$TOOLS/node/node_modules" "$TOOLS/node/node_modules/.bin/ajv" validate \
           --spec=draft2020 --strict=true --all-errors -c ajv-formats -c ajv-formats-draft2019 -s "$2" -d "$3" ;;
    yaml-language-server) NODE_PATH="$TOOLS/node/node_modules" node scripts/yaml-ls-validate.js "$2" "$3" ;;
  esac
}

TOOL_LIST="check-jsonschema ajv yaml-language-server"
install
failures=0

echo "== examples/data: every file, every tool"
while IFS= read -r f; do
  s="$(schema_of "$f")"
  [ -n "$s" ] || continue
  for t in $TOOL_LIST; do
    if ! out="$(run "$t" "$s" "$f" 2>&1)"; then
      echo "FAIL $t refuses $f:"; echo "$out" | head -20 | sed 's/^/    /'
      failures=$((failures + 1))
    fi
  done
done < <(find examples/data -name '*.yaml' | sort)

echo "== tests/fixtures/broken: every tool agrees, and refuses exactly the schema-catchable ones"
for dir in tests/fixtures/broken/*/; do
  name="$(basename "$dir")"
  verdicts=""
  for t in $TOOL_LIST; do
    v=accepted
    while IFS= read -r f; do
      s="$(schema_of "$f")"
      [ -n "$s" ] || continue
      if ! run "$t" "$s" "$f" >/dev/null 2>&1; then v=refused; fi
    done < <(find "$dir" -name '*.yaml' | sort)
    verdicts="$verdicts $t=$v"
  done
  expected=accepted
  case "$SCHEMA_CATCHES" in *" $name "*) expected=refused ;; esac
  bad=""
  for tv in $verdicts; do
    want="$expected"
    case "$EXCEPTIONS" in *" $name:${tv%%=*}="*)
      want="${EXCEPTIONS#*" $name:${tv%%=*}="}"; want="${want%% *}" ;;
    esac
    [ "${tv#*=}" = "$want" ] || bad="$bad $tv"
  done
  if [ -n "$bad" ]; then
    echo "FAIL $name: expected $expected (exceptions: see EXCEPTIONS), got$verdicts"
    failures=$((failures + 1))
  else
    echo "ok   $name:$verdicts"
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "check-schema-tools: $failures failure(s)"
  exit 1
fi
echo "check-schema-tools: every example accepted by every tool; every fixture judged alike"
