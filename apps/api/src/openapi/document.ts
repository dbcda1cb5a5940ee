import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { methodNotAllowed } from '../http/errors.js';
import { buildOpenApiDocument, registerRoute } from './registry.js';

registerRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This OpenAPI document',
  tags: ['Operations'],
  auth: false,
  responses: { 200: { description: 'OpenAPI 3.1 document' } },
});
registerRoute({
  method: 'get',
  path: '/docs',
  summary: 'Interactive documentation (Swagger UI) of /openapi.json',
  tags: ['Operations'],
  auth: false,
  responses: { 200: { description: 'HTML page' } },
});

/** `/openapi.json` and `/docs`, public so that a developer can read them before holding a key. */
export function openApiRoutes(): Router {
  const router = Router();
  let documentJson: string | undefined;
  router
    .route('/openapi.json')
    .get((_req, res) => {
      // Built on first use, once every route module has registered, then served as is:
      // the route is public, so it must cost nothing per request.
      documentJson ??= JSON.stringify(buildOpenApiDocument());
      res.type('json').send(documentJson);
    })
    .all(methodNotAllowed);
  // Swagger UI's assets come from the swagger-ui-dist package, so /docs works offline.
  router.use('/docs', (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : methodNotAllowed(req, res, next)));
  const options = { swaggerOptions: { url: '/openapi.json' } };
  // The page answers at /docs itself (no redirect); <base> makes its relative asset URLs resolve under /docs/.
  const html = swaggerUi.generateHTML(undefined, options).replace('<head>', '<head><base href="/docs/">');
  router.get(['/docs', '/docs/', '/docs/index.html'], (_req, res) => {
    res.type('html').send(html);
  });
  router.use('/docs', swaggerUi.serveFiles(undefined, options));
  return router;
}
