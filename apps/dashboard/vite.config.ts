import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the API at /portal (apps/api/src/portal/page-routes.ts): no dev server is needed.
export default defineConfig({
  base: '/portal/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0 },
});
