if (!process.env.DATABASE_URL_UNSET_IN_THE_TESTS) {
  throw new Error('DATABASE_URL is not set');
}
module.exports = { apps: [] };
