/**
 * The TypeScript SDK version of `npm run dev`'s curls, printed next to them. Kept apart from
 * scripts/dev.ts (which starts processes on import) so packages/sdk/test/examples.test.ts
 * can run exactly what is printed against a real API (test/ops/dev.test.ts checks it is printed).
 */
export interface SnippetInput {
  apiUrl: string;
  webhookBody: Record<string, unknown>;
  eventBody: Record<string, unknown>;
}

/** A complete ES module: saved as a file, it creates the webhook, emits, and prints the event. */
export function sdkSnippet({ apiUrl, webhookBody, eventBody }: SnippetInput): string[] {
  return [
    `import { Hooklane } from '@hooklane/sdk';`,
    `const hl = new Hooklane({ baseUrl: '${apiUrl}', token: process.env.KEY! });`,
    `const webhook = await hl.webhooks.create(${JSON.stringify(webhookBody)});`,
    `const { event_id } = await hl.events.emit(${JSON.stringify(eventBody)});`,
    `console.log(webhook.id, await hl.events.get(event_id));`,
  ];
}
