// Tracker clients built from the environment. Missing settings are a ConfigError naming them.
import { ConfigError, type AppConfig } from '../config';
import { GiteaClient } from './gitea-client';
import { PlaneClient } from './plane-client';
import { cachedPlaneDirectory, type PlaneDirectory } from './plane-directory';

export function planeConfigured(config: AppConfig): boolean {
  return Boolean(config.env.ORCH_PLANE_API_URL && config.env.ORCH_PLANE_API_KEY && config.env.ORCH_PLANE_WORKSPACE);
}

export function planeClientFromConfig(config: AppConfig): PlaneClient {
  const { ORCH_PLANE_API_URL: baseUrl, ORCH_PLANE_API_KEY: apiKey, ORCH_PLANE_WORKSPACE: workspace } = config.env;
  if (!baseUrl || !apiKey || !workspace) {
    throw new ConfigError(
      'the Plane API is not configured: set ORCH_PLANE_API_URL, ORCH_PLANE_API_KEY and ORCH_PLANE_WORKSPACE',
    );
  }
  return new PlaneClient({ baseUrl, apiKey, workspace });
}

export function giteaConfigured(config: AppConfig): boolean {
  return Boolean(config.env.ORCH_GITEA_API_URL && config.env.ORCH_GITEA_TOKEN);
}

export function giteaClientFromConfig(config: AppConfig): GiteaClient {
  const { ORCH_GITEA_API_URL: baseUrl, ORCH_GITEA_TOKEN: token } = config.env;
  if (!baseUrl || !token)
    throw new ConfigError('the Gitea API is not configured: set ORCH_GITEA_API_URL and ORCH_GITEA_TOKEN');
  return new GiteaClient({ baseUrl, token });
}

/** A directory over the Plane API, or one whose every look-up explains what is missing. */
export function planeDirectoryFromConfig(config: AppConfig): PlaneDirectory {
  try {
    return cachedPlaneDirectory(planeClientFromConfig(config));
  } catch (err) {
    const fail = async (): Promise<never> => {
      throw err;
    };
    return { projectIdentifier: fail, stateGroup: fail, workItemSequence: fail };
  }
}
