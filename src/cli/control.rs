//! `nodeunits start|stop|restart|delete|scale`: thin, each the systemctl
//! command it stands for.
use std::process::ExitCode;

use super::args::ManagerArgs;

pub fn start(app: &str, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("start {app}: not implemented yet")
}
pub fn stop(app: &str, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("stop {app}: not implemented yet")
}
pub fn restart(app: &str, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("restart {app}: not implemented yet")
}
pub fn delete(app: &str, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("delete {app}: not implemented yet")
}
pub fn scale(app: &str, instances: u32, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("scale {app} {instances}: not implemented yet")
}
