import { defineConfig } from 'vite';

// Reproducible output: fixed file names (no content hashes, no timestamps),
// so `make web` twice gives the same bytes and CI can diff the committed
// dist/ against a fresh build. The Go server revalidates by ETag instead.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name].js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
});
