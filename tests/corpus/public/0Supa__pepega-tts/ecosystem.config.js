module.exports = {
  apps: [{
    name: "pepega-tts",
    script: "index.js",
  }]
}