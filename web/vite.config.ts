import { defineConfig } from 'vite';

// Reproducible output: fixed file names (no content hashes, no timestamps),
// so `make web` twice gives the same bytes and CI can diff the committed
// dist/ against a fresh build. The Go server revalidates by ETag instead.
export default defineConfig({
  base: '/',
  worker: {
    format: 'es',
    rollupOptions: { output: { entryFileNames: 'assets/[name].js', chunkFileNames: 'assets/[name].js', assetFileNames: 'assets/[name][extname]' } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      // GraphiQL's dependencies carry React "use client" directives, which
      // mean nothing in a bundle; every other warning is shown.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: { index: 'index.html', playground: 'playground.html' },
      output: {
        entryFileNames: 'assets/[name].js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
});
