import pkg from '../package.json' with { type: 'json' };

export const SUITE_NAME: string = pkg.name;
export const SUITE_VERSION: string = pkg.version;
