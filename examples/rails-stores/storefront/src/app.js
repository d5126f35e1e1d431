// One build for every store: the store comes from the host name at run time.
const stores = { de: 'Shop Deutschland', fr: 'Boutique France', uk: 'Shop UK' };
const host = window.location.hostname;
const key = Object.keys(stores).find((k) => host.includes(`.${k}`) || host.startsWith(`${k}.`)) ?? 'de';
document.getElementById('store').textContent = stores[key];
