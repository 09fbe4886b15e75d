//! Real frameworks from npm (express, fastify as an ES module, koa), as a
//! PM2 user writes them: applied from an ecosystem file, served through the
//! socket systemd holds, and reloaded with `nodeunits reload` under
//! keep-alive load without one failed request.

mod apply_support;
mod helper_support;

use apply_support::{give_to_deploy, nodeunits_ok, wait_serving};
use helper_support::{assert_no_failures, node_modules_in, stop_wrk, wrk};
use testhost::TestHost;

const EXPRESS: &str = "\
const express = require('express');
const app = express();
app.get('/', (req, res) => res.send(`express ${process.env.NODE_APP_INSTANCE}\\n`));
app.listen(process.env.PORT || 3000);
";

const FASTIFY_ESM: &str = "\
import Fastify from 'fastify';
const fastify = Fastify();
fastify.get('/', async () => `fastify ${process.env.NODE_APP_INSTANCE}\\n`);
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
";

const KOA: &str = "\
const Koa = require('koa');
const app = new Koa();
app.use((ctx) => { ctx.body = `koa ${process.env.NODE_APP_INSTANCE}\\n`; });
app.listen(process.env.PORT);
";

#[test]
fn express_fastify_and_koa_reload_under_load_without_a_failed_request() {
    let host = TestHost::boot("frameworks-reload");
    node_modules_in(&host, "/srv/web");
    let apps = [
        ("express", "express.js", EXPRESS, 8201),
        ("fastify", "fastify.mjs", FASTIFY_ESM, 8202),
        ("koa", "koa.js", KOA, 8203),
    ];
    let mut ecosystem = String::new();
    for (name, script, source, port) in apps {
        host.write(&format!("/srv/web/{script}"), source);
        ecosystem += &format!(
            "[[apps]]\nname = \"{name}\"\nscript = \"{script}\"\ninstances = 2\n\
             exec_mode = \"cluster\"\nport = {port}\nkill_timeout = 3000\n\n"
        );
    }
    host.write("/srv/web/ecosystem.toml", ecosystem);
    give_to_deploy(&host, "/srv/web");
    nodeunits_ok(&host, "apply /srv/web/ecosystem.toml");
    for (name, _, _, port) in apps {
        wait_serving(&host, port, &format!("{name} "));
        let load = wrk(&host, &format!("http://127.0.0.1:{port}/"), 32);
        for _ in 0..3 {
            nodeunits_ok(&host, &format!("reload {name}"));
        }
        let (report, output) = stop_wrk(&host, load);
        assert_no_failures(&report, &output, &format!("{name}, reloaded 3 times"));
    }
}
