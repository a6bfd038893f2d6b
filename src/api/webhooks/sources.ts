// The two webhook senders: where each keeps its event type, signature and delivery id.
import type { Request } from 'express';
import type { AppConfig } from '../../config';
import type { HeadLookup } from '../../client/item-by-head';
import type { PlaneDirectory } from '../../tracker/plane-directory';
import { mapGiteaDelivery } from './gitea';
import { mapPlaneDelivery } from './plane';
import type { WebhookSource } from './router';

const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function giteaSource(config: AppConfig, itemByHead?: HeadLookup): WebhookSource {
  return {
    secret: config.env.ORCH_GITEA_WEBHOOK_SECRET,
    // Fall back to the GitHub-style header only when Gitea's own is absent: present but empty
    // means the hook has no secret, and that is rejected.
    signature: (req) => header(req, 'x-gitea-signature') ?? header(req, 'x-hub-signature-256'),
    eventType: (req) => header(req, 'x-gitea-event-type') ?? header(req, 'x-gitea-event') ?? '',
    deliveryId: (req) => header(req, 'x-gitea-delivery'),
    map: (eventType, payload) =>
      mapGiteaDelivery(eventType, payload, { config, botLogin: config.env.ORCH_GITEA_BOT_LOGIN, itemByHead }),
  };
}

export function planeSource(config: AppConfig, directory: PlaneDirectory): WebhookSource {
  return {
    secret: config.env.ORCH_PLANE_WEBHOOK_SECRET,
    signature: (req) => header(req, 'x-plane-signature'),
    eventType: (req) => header(req, 'x-plane-event') ?? '',
    deliveryId: (req) => header(req, 'x-plane-delivery'),
    // Plane's work item UUID: on a work item event its id, on a comment its issue.
    lane(_eventType, payload) {
      const p = payload as { event?: unknown; data?: { id?: unknown; issue?: unknown } } | null;
      const id = p?.event === 'issue_comment' ? p.data?.issue : p?.data?.id;
      return typeof id === 'string' ? `plane:${id}` : undefined;
    },
    map: (eventType, payload) =>
      mapPlaneDelivery(
        payload,
        {
          config,
          directory,
          botUserId: config.env.ORCH_PLANE_BOT_USER_ID,
          webUrl: config.env.ORCH_PLANE_API_URL,
          workspace: config.env.ORCH_PLANE_WORKSPACE,
        },
        eventType,
      ),
  };
}
