// Validates YAML files against a JSON Schema the way VS Code's YAML extension does, through
// yaml-language-server's own language service (no editor needed).
// usage: node yaml-ls-validate.js <schema.json> <file.yaml>...
// Prints each diagnostic as file:line:col: message; exits 1 when any file has an error.
'use strict';
const fs = require('fs');
const path = require('path');
const { TextDocument } = require('vscode-languageserver-textdocument');

async function main() {
  // yaml-language-server 2 is an ES module.
  const entry = require('url').pathToFileURL(require.resolve('yaml-language-server')).href;
  const { getLanguageService } = await import(entry);
  const [schemaPath, ...files] = process.argv.slice(2);
  if (!schemaPath || files.length === 0) {
    console.error('usage: node yaml-ls-validate.js <schema.json> <file.yaml>...');
    process.exit(2);
  }
  const schemaText = fs.readFileSync(schemaPath, 'utf8');
  const schemaUri = 'file://' + path.resolve(schemaPath);
  const ls = getLanguageService({
    schemaRequestService: async (uri) => {
      if (uri === schemaUri) return schemaText;
      // a file's own `# yaml-language-server: $schema=<path>` modeline names a local file
      if (uri.startsWith('file://')) return fs.readFileSync(new URL(uri), 'utf8');
      throw new Error(`schema ${uri} is not available offline`);
    },
    workspaceContext: { resolveRelativePath: (rel, res) => new URL(rel, res).toString() },
  });
  ls.configure({
    validate: true,
    hover: false,
    completion: false,
    format: false,
    yamlVersion: '1.2',
    schemas: [{ uri: schemaUri, fileMatch: ['*.yaml', '*.yml'], schema: JSON.parse(schemaText) }],
  });
  let failed = false;
  for (const file of files) {
    const doc = TextDocument.create('file://' + path.resolve(file), 'yaml', 1, fs.readFileSync(file, 'utf8'));
    const diagnostics = await ls.doValidation(doc, false);
    if (process.env.YLS_DEBUG) console.error(JSON.stringify(diagnostics));
    // severity 1 = error (YAML syntax), 2 = warning: the language service reports schema
    // violations as warnings (the editor's squiggles), so both count.
    for (const d of diagnostics.filter((d) => d.severity <= 2)) {
      failed = true;
      console.log(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(2);
});
