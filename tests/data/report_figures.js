// Injected into a copy of the Snakemake HTML report: opens every category like a reader,
// clicks each figure in its list and records whether the image is shown and decodes.
window.addEventListener("load", async () => {
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const checks = [];
  await pause(200);
  for (const [category, subcategories] of Object.entries(categories)) {
    for (const [subcategory, paths] of Object.entries(subcategories)) {
      app.setView({ navbarMode: "menu" });  // leave the last list, so the next one is built afresh
      await pause(100);
      app.setView({ navbarMode: "subcategory", category: category, subcategory: subcategory });
      await pause(100);
      for (const path of paths) {
        const entry = results[path];
        if (!entry.mime_type.startsWith("image/")) continue;
        const shown = entry.labels ? Object.values(entry.labels) : [entry.name];  // a row shows labels, else the name
        const row = [...document.querySelectorAll("tr")].find((r) => shown.every((text) => r.textContent.includes(text)));
        const link = row ? row.querySelector("a") : null;
        if (link) link.click();
        await pause(100);
        const img = [...document.querySelectorAll("img")].find((i) => i.getAttribute("src") === entry.data_uri);
        if (img && !img.complete) await new Promise((resolve) => { img.onload = img.onerror = resolve; });
        checks.push({ path: path, category: category, listed: !!link, shown: !!img, width: img ? img.naturalWidth : 0, height: img ? img.naturalHeight : 0 });
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "figure-check";
  out.textContent = JSON.stringify({ checks: checks, errors: window.reportErrors || [] });
  document.body.appendChild(out);
});
