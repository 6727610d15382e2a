// Node-RED settings for the benchmark peer: loopback only, no editor, no admin API, quiet logs.
module.exports = {
    uiHost: "127.0.0.1",
    httpAdminRoot: false,      // no editor and no admin HTTP API: only the flow's own endpoints
    httpNodeRoot: "/",
    flowFilePretty: false,
    credentialSecret: false,
    apiMaxLength: "1mb",
    logging: { console: { level: "warn", metrics: false, audit: false } },
    contextStorage: { default: { module: "memory" } },
    functionGlobalContext: {},
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
