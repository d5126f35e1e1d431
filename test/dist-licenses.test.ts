/**
 * Every package an action's source imports at run time is bundled into dist/<action>/, so its
 * license must be in dist/<action>/licenses.txt: a shipped action carries the licenses of all it
 * holds, the packages of index.js as well as those of the chunks split off by dynamic imports.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { actionNames } from './helpers/actions.js';
import { repoRoot } from './helpers/run-bundle.js';

interface Imports {
  packages: string[];
  local: string[];
}

/** The module specifiers a file imports for their values: `import type`, `export type` and imports of types alone left out. */
function importsOf(file: string): Imports {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typesOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      if (!typesOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.isTypeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg !== undefined && ts.isStringLiteralLike(arg)) specifiers.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const local = specifiers.filter((s) => s.startsWith('.'));
  return {
    packages: specifiers.filter((s) => !s.startsWith('.') && !isBuiltin(s)).map(packageName),
    local: local.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))).filter((f) => f.endsWith('.ts') && existsSync(f)),
  };
}

/** '@smithy/core/retry' → '@smithy/core', 'zod/v4' → 'zod'. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The packages imported by actions/<name>/**\/*.ts and the lib/ files they import (transitively), sorted. */
function importedPackages(name: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = tsFiles(join(repoRoot, 'actions', name));
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const { packages: found, local } = importsOf(file);
    for (const p of found) packages.add(p);
    queue.push(...local);
  }
  return [...packages].sort();
}

/** Whether licenses.txt has an entry for the package: its name alone on the line that starts an entry. */
function listed(licenses: string, name: string): boolean {
  return licenses.startsWith(`${name}\n`) || licenses.includes(`\n\n${name}\n`);
}

describe('dist licenses.txt', () => {
  it('reads the imports: deploy-ecs imports the ECS client statically and the CodeDeploy client dynamically, @smithy/types only as types', () => {
    const deployEcs = importedPackages('deploy-ecs');
    expect(deployEcs).toContain('@aws-sdk/client-ecs');
    expect(deployEcs).toContain('@aws-sdk/client-codedeploy');
    expect(importedPackages('deploy-static')).not.toContain('@smithy/types');
  });

  describe.each(actionNames())('%s', (name) => {
    it('names every package the action imports', () => {
      const licenses = readFileSync(join(repoRoot, 'dist', name, 'licenses.txt'), 'utf8');
      const imported = importedPackages(name);
      expect(imported.length).toBeGreaterThan(0);
      expect(imported.filter((p) => !listed(licenses, p))).toEqual([]);
    });
  });
});
