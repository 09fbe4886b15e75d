//! How each app's workers run, read from the worker templates `render`
//! printed: the program and its arguments (the words of `ExecStart=` after
//! the helper's `--`), the working directory and where the two streams go.
//! What PM2 users see change when nodeunits runs a script, resolves a path
//! or routes a log differently.

/// A line per worker template of `rendered` (normalized), in its order.
pub fn describe(rendered: &str) -> Vec<String> {
    let mut workers = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in rendered.lines() {
        if let Some(unit) = line.strip_prefix("# --- ") {
            workers.extend(current.take().map(|(name, parts)| finish(&name, &parts)));
            if let Some(name) = unit.strip_suffix("@.service ---") {
                current = Some((name.to_owned(), Vec::new()));
            }
            continue;
        }
        let Some((_, parts)) = current.as_mut() else {
            continue;
        };
        if let Some(exec) = line.strip_prefix("ExecStart=") {
            let program = exec.split_once(" -- ").map_or(exec, |(_, program)| program);
            parts.insert(0, format!("runs {program}"));
        } else if let Some(dir) = line.strip_prefix("WorkingDirectory=") {
            parts.push(format!("in {dir}"));
        } else if let Some(out) = line.strip_prefix("StandardOutput=") {
            parts.push(format!("stdout {out}"));
        } else if let Some(err) = line.strip_prefix("StandardError=") {
            parts.push(format!("stderr {err}"));
        }
    }
    workers.extend(current.map(|(name, parts)| finish(&name, &parts)));
    workers
}

fn finish(name: &str, parts: &[String]) -> String {
    format!("{name}: {}", parts.join("; "))
}

#[test]
fn workers_are_told_by_program_directory_and_streams() {
    let rendered = "# --- py.socket ---\nListenStream=1\n\
                    # --- py@.service ---\n\
                    ExecStart=/usr/bin/nodeunits-helper --app py --instance %i -- <copy>/app.py -v\n\
                    WorkingDirectory=<copy>\nStandardOutput=append:<copy>/out.log\nStandardError=null\n\
                    # --- py.service ---\nExecStart=/bin/true\n\
                    # --- n@.service ---\nExecStart=/usr/bin/nodeunits-helper --launcher -- /usr/bin/npm start\n";
    assert_eq!(
        describe(rendered),
        [
            "py: runs <copy>/app.py -v; in <copy>; stdout append:<copy>/out.log; stderr null",
            "n: runs /usr/bin/npm start",
        ]
    );
}
