/** The version, set by the bundler from package.json. */
declare const __MPTCP_LENS_VERSION__: string | undefined;
export const VERSION: string = typeof __MPTCP_LENS_VERSION__ === 'string' ? __MPTCP_LENS_VERSION__ : '0.0.0-dev';
