// Concierge SPA: for now, the platform health page (GET /api/health).
"use strict";

function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
}

function detail(part) {
    return Object.entries(part)
        .filter(([key]) => key !== "status")
        .map(([key, value]) => `${key}: ${value}`)
        .join(", ");
}

async function showHealth() {
    const summary = document.getElementById("health-summary");
    const table = document.getElementById("health-table");
    try {
        const response = await fetch("/api/health", { headers: { Accept: "application/json" } });
        const health = await response.json();
        const rows = table.querySelector("tbody");
        rows.replaceChildren();
        for (const [name, part] of Object.entries(health.components || {})) {
            const tr = document.createElement("tr");
            tr.append(cell(name), cell(part.status, part.status === "ok" ? "state-ok" : "state-bad"),
                      cell(detail(part)));
            rows.append(tr);
        }
        summary.textContent = health.status === "ok" ? "All parts are working." : "Some parts need attention.";
        table.hidden = false;
    } catch (err) {
        summary.textContent = "The API could not be reached: " + err.message;
    }
}

showHealth();
