//! Time from `pm2 start` / `nodeunits apply` to every instance ready, and the
//! wall time of one reload of 4 instances, with no load.

use std::time::Instant;

use anyhow::Result;

use super::who;
use crate::apps::App;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

pub fn measure(supervisor: &mut dyn Supervisor, results: &mut Results) -> Result<()> {
    let app = App::cooperative(4);
    let who = who(supervisor);

    let started = Instant::now();
    supervisor.start(&app)?;
    let ready = started.elapsed().as_secs_f64();
    results.add(
        "Time to all ready, cooperative ×4",
        "s",
        Better::Lower,
        who,
        ready,
    );

    let reloading = Instant::now();
    supervisor.reload(&app)?;
    let reload = reloading.elapsed().as_secs_f64();
    results.add(
        "Reload wall time, cooperative ×4",
        "s",
        Better::Lower,
        who,
        reload,
    );

    supervisor.stop(&app)
}
