/** How long deliveries keep signing with the old secret after a rotation, so receivers can switch over. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export function previousSecretFields(oldSecret: string, now: Date): { previousSecret: string; previousSecretExpiresAt: Date } {
  return { previousSecret: oldSecret, previousSecretExpiresAt: new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS) };
}
