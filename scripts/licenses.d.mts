// Types for scripts/licenses.mjs (plain JavaScript: the build runs it with node, no TypeScript loader).
export interface WebpackStatsModule {
  nameForCondition?: string;
  modules?: WebpackStatsModule[];
}
export interface BundledPackage {
  name: string;
  dir: string;
}
export interface PackageManifest {
  name?: string;
  license?: string | { type?: string };
  licenses?: (string | { type?: string })[];
}
export function modulePaths(stats: { modules?: WebpackStatsModule[] }): string[];
export function bundledPackages(paths: string[]): BundledPackage[];
export function licenseFileName(fileNames: Iterable<string>): string | undefined;
export function licenseEntry(name: string, manifest: PackageManifest, text: string | undefined): string;
export function renderLicenses(entries: string[]): string;
export function licensesFromStats(statsFile: string): string;
