// Vite's types for what its browser code may import (CSS, assets, `import.meta.env`, `import.meta.hot`).
/// <reference types="vite/client" />
