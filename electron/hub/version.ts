import agentPackage from 'farmboy-agent/package.json' with { type: 'json' };

/** The hub's release, kept equal to the agent package's version it ships with. */
export const HUB_VERSION: string = agentPackage.version;
