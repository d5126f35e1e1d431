/* global fetch, document */
// Built by `npm run build` (committed here so the example's test deploys it without a Node build).
// The API is same-origin: the distribution routes /api/* to the load balancer.
fetch('/api/orders').then((r) => r.json()).then((orders) => { document.getElementById('app').textContent = `${orders.length} orders`; });
