// Built by the delivery-app frontend (fingerprinted: served immutable for a year).
const app = document.getElementById('app');
const page = app.dataset.page ?? 'orders';
app.textContent = page === 'track' ? 'Enter your tracking number.' : 'No orders yet.';
//# sourceMappingURL=app.3f9a1c.js.map
