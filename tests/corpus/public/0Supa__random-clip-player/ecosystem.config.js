module.exports = {
  apps: [{
    name: "random-clip-player",
    script: "index.js"
  }]
}
