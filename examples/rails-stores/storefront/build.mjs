// A stand-in for a real bundler (Vite, webpack): copies src/ to dist/ and gives
// JS and CSS content-hashed names, so deploy-static can cache them for a year.
// The store is chosen at run time from the host name, so one build serves all.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/assets', { recursive: true });
let html = readFileSync('src/index.html', 'utf8');
for (const file of readdirSync('src').filter((f) => /\.(js|css)$/.test(f))) {
  const body = readFileSync(`src/${file}`);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
  const named = file.replace(/\.(js|css)$/, `.${hash}.$1`);
  writeFileSync(`dist/assets/${named}`, body);
  html = html.replaceAll(`/${file}`, `/assets/${named}`);
}
writeFileSync('dist/index.html', html);
console.log(`built dist/ (release ${process.env.DEPLOY_ENVIRONMENT ?? 'local'})`);
