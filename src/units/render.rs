//! Plans → unit files, through the templates in `templates/`.

use std::path::Path;
use std::sync::OnceLock;

use tera::{Context, Tera};

use super::plan::AppPlan;
use super::{AppUnits, UnitFile};

const TEMPLATES: &[(&str, &str)] = &[
    ("header", include_str!("../../templates/header.tera")),
    (
        "unit-section",
        include_str!("../../templates/unit-section.tera"),
    ),
    (
        "app.socket",
        include_str!("../../templates/app.socket.tera"),
    ),
    (
        "worker.service",
        include_str!("../../templates/worker.service.tera"),
    ),
    (
        "app.service",
        include_str!("../../templates/app.service.tera"),
    ),
    (
        "cron.timer",
        include_str!("../../templates/cron.timer.tera"),
    ),
    (
        "cron.service",
        include_str!("../../templates/cron.service.tera"),
    ),
];

fn templates() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::new());
        // Partials end without a newline so that an include fills one line.
        tera.add_raw_templates(
            TEMPLATES
                .iter()
                .map(|(name, text)| (*name, text.trim_end())),
        )
        .expect("the embedded templates parse");
        tera
    })
}

pub fn render(source: &Path, plans: &[AppPlan]) -> Vec<AppUnits> {
    plans.iter().map(|plan| render_app(source, plan)).collect()
}

fn render_app(source: &Path, plan: &AppPlan) -> AppUnits {
    let mut context = Context::from_serialize(plan).expect("a plan serializes");
    context.insert("source_comment", &source.to_string_lossy());
    let name = &plan.name;
    let mut files = Vec::new();
    let mut add = |template: &str, file: String| {
        let mut contents = templates()
            .render(template, &context)
            .unwrap_or_else(|err| panic!("template {template}: {err:?}"));
        contents.push('\n');
        files.push(UnitFile {
            name: file,
            contents,
        });
    };
    if !plan.listen.is_empty() {
        add("app.socket", format!("{name}.socket"));
    }
    add("worker.service", format!("{name}@.service"));
    add("app.service", format!("{name}.service"));
    if plan.cron.is_some() {
        add("cron.timer", format!("{name}-cron.timer"));
        add("cron.service", format!("{name}-cron.service"));
    }
    AppUnits {
        app: name.clone(),
        instances: plan.instances,
        listen: plan.listen_raw.clone(),
        files,
    }
}
