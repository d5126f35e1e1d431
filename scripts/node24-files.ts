/**
 * Prints the test files of the Node 24 pass (.ci/run), one per line: the bundle test files that
 * test a bundle rather than a workflow or a script (test/helpers/suite-files.ts node24TestFiles).
 */
import { node24TestFiles } from '../test/helpers/suite-files.js';

console.log(node24TestFiles(new URL('..', import.meta.url).pathname).join('\n'));
