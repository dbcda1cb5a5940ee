import { Router } from 'express';
import type { AppDeps } from '../deps.js';

// Placeholder: filled in by its issue.
export function webhookDeliveriesRoutes(_deps: AppDeps): Router {
  return Router();
}
