/**
 * Every test must assert something: a test whose body runs no `expect` fails, so a test cannot
 * pass by checking nothing (a loop over an empty list, a forgotten await). Loaded by every project
 * in vitest.config.ts.
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
