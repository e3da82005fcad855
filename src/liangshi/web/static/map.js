// The area map: one marker per door plate, coloured by status (square when buildings stand on it).
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(el, { zoomSnap: 0.25 });
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { attribution: cfg.attribution || "", subdomains: cfg.subdomains || "abc", maxZoom: 19 }).addTo(map);
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // By visit: a plate takes the least-visited status of the buildings on it (a partly visited one shows as such).
  var VISIT_ORDER = ["not_visited", "partly_visited", "visited"];
  function visitOf(p) {
    var worst = null;
    (p.buildings || []).forEach(function (b) {
      var i = VISIT_ORDER.indexOf(b.visit_status);
      if (i >= 0 && (worst === null || i < worst)) worst = i;
    });
    return worst === null ? null : VISIT_ORDER[worst];
  }
  var layer = L.geoJSON(data, {
    pointToLayer: function (feature, latlng) {
      var p = feature.properties;
      var shape = p.buildings && p.buildings.length ? " square" : "";
      var visit = cfg.by === "visit" ? visitOf(p) : null;
      var colour = visit ? " vs-" + visit : " st-" + p.status;
      var icon = L.divIcon({ className: "plate-marker" + colour + shape, iconSize: [14, 14] });
      return L.marker(latlng, { icon: icon, title: (p.street || "") + p.number, keyboard: false });
    },
    onEachFeature: function (feature, lyr) {
      var p = feature.properties;
      var html = "<strong>" + esc(p.street || "") + esc(p.number) + "</strong><br>" + esc(cfg.status[p.status] || p.status);
      var visit = visitOf(p);
      if (visit && cfg.visit_status) html += " · " + esc(cfg.visit_status[visit] || visit);
      if (p.buildings && p.buildings.length) {
        html += "<br>" + esc(cfg.buildings) + ": " + p.buildings.map(function (b) {
          if (!cfg.grid_links) return esc(b.label);
          return '<a href="/web/buildings/' + b.id + '/grid">' + esc(b.label) + "</a>";
        }).join(", ");
      }
      lyr.bindPopup(html);
    },
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.15), { maxZoom: 18 });
  } else {
    map.setView([30.39, 114.89], 12);  // Ezhou
  }
  el.dataset.markers = String(data.features.length);
})();
