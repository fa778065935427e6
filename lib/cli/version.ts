/** The package version, shown by `coord --version` and recorded in status.json. */
export const VERSION = '0.1.0';
