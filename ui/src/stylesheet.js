// A bundle's own stylesheet (esbuild writes NAME.css beside NAME.js), added to the page
// once, when the bundle is first loaded.

/** Link ``file`` (relative to the bundle at ``base``, its import.meta.url) once. */
export function addStylesheet(file, base) {
  const href = new URL(file, base).href;
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((l) => l.href === href)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}
