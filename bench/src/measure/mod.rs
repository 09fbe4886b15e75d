//! One module per measurement. Each runs on one supervisor at a time and
//! adds its samples to the results under the same measure names for both.

pub mod memory;
pub mod memory_limit;
pub mod reload;
pub mod startup;
pub mod throughput;

use crate::load::Load;
use crate::report::Who;
use crate::supervisor::Supervisor;

/// How long and how much: the full run or the CI smoke.
#[derive(Debug, Clone)]
pub struct Plan {
    pub runs: u32,
    pub reloads: u32,
    pub connections: u32,
    pub throughput_seconds: u32,
    pub steady_seconds: u32,
    pub memory_limit_seconds: u32,
    /// The smoke measures only failed requests during reloads.
    pub smoke: bool,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            runs: 3,
            reloads: 10,
            connections: 32,
            throughput_seconds: 4,
            steady_seconds: 4,
            memory_limit_seconds: 12,
            smoke: false,
        }
    }

    pub fn smoke() -> Plan {
        Plan {
            runs: 1,
            reloads: 1,
            connections: 32,
            throughput_seconds: 2,
            steady_seconds: 2,
            memory_limit_seconds: 0,
            smoke: true,
        }
    }

    /// Keep-alive load with the plan's connections; `seconds` is an upper
    /// bound when the load is stopped early.
    pub fn load(&self, port: u16, keep_alive: bool, seconds: u32) -> Load {
        Load {
            connections: self.connections,
            threads: 2,
            keep_alive,
            seconds,
            port,
        }
    }
}

pub fn who(supervisor: &dyn Supervisor) -> Who {
    match supervisor.name() {
        "PM2" => Who::Pm2,
        _ => Who::Nodeunits,
    }
}
