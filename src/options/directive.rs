use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::app::PER_WORKER;
use crate::model::name::UnitKind;
use crate::model::{AppUnits, Bytes, LogTarget, Worker};
use crate::units::escape::{self, unescape_specifiers, Unrepresentable};
use crate::units::format::{duration, parse_duration, parse_size, size};

type Write = Box<dyn Fn(&AppUnits) -> Result<Option<String>, Unrepresentable> + Send + Sync>;
type Read = Box<dyn Fn(&mut AppUnits, &str) -> Option<()> + Send + Sync>;

/// A directive an option sets, in the worker template or the app unit: its
/// value written from the model, escaped, and read back into it. The
/// template places it by its key (`{{ worker.TimeoutStopSec }}`,
/// `{{ app.X-Nodeunits-Autostart }}`); reading an installed unit finds it
/// by its section and key.
pub struct Directive {
    /// [`UnitKind::Template`] or [`UnitKind::App`].
    pub unit: UnitKind,
    /// `Unit` or `Service`.
    pub section: &'static str,
    pub key: &'static str,
    /// Every worker has it: reading a unit without it is an error.
    pub required: bool,
    /// The template places it by its key; else it is one of the plain
    /// directives the template writes in a loop (`worker.plain`).
    pub placed: bool,
    write: Write,
    read: Read,
}

/// The directives' values for the template, by key; `None`: not written.
pub type DirectiveValues = BTreeMap<&'static str, Option<String>>;

impl Directive {
    /// The value for `app`, escaped for a unit file; `None`: left out.
    pub fn write(&self, app: &AppUnits) -> Result<Option<String>, Unrepresentable> {
        (self.write)(app)
    }

    /// Sets what `value` says in `app`; `None` when it cannot be read.
    pub fn read(&self, app: &mut AppUnits, value: &str) -> Option<()> {
        (self.read)(app, value)
    }

    /// A directive of the worker template.
    fn new(
        section: &'static str,
        key: &'static str,
        write: impl Fn(&Worker) -> Result<Option<String>, Unrepresentable> + Send + Sync + 'static,
        read: impl Fn(&mut Worker, &str) -> Option<()> + Send + Sync + 'static,
    ) -> Directive {
        Directive {
            unit: UnitKind::Template,
            section,
            key,
            required: false,
            placed: true,
            write: Box::new(move |app| write(&app.worker)),
            read: Box::new(move |app, text| read(&mut app.worker, text)),
        }
    }

    /// A directive of the app unit's `[Unit]` section.
    fn app_unit(
        key: &'static str,
        write: impl Fn(&AppUnits) -> Option<String> + Send + Sync + 'static,
        read: impl Fn(&mut AppUnits, &str) -> Option<()> + Send + Sync + 'static,
    ) -> Directive {
        Directive {
            unit: UnitKind::App,
            section: "Unit",
            key,
            required: false,
            placed: true,
            write: Box::new(move |app| Ok(write(app))),
            read: Box::new(read),
        }
    }

    /// A marker of the app unit's `[Unit]` section, written `no` when
    /// `get` is false and left out when it is true (the default).
    pub(super) fn app_flag(
        key: &'static str,
        get: fn(&AppUnits) -> bool,
        set: fn(&mut AppUnits, bool),
    ) -> Directive {
        Directive::app_unit(
            key,
            move |app| (!get(app)).then(|| "no".to_owned()),
            move |app, text| {
                let value = match text {
                    "yes" => true,
                    "no" => false,
                    _ => return None,
                };
                set(app, value);
                Some(())
            },
        )
    }

    /// A text of the app unit's `[Unit]` section, one word quoted as
    /// `ExecStart=` words are (so that any text reads back as written), when
    /// `get` has one.
    pub(super) fn app_text(
        key: &'static str,
        get: fn(&AppUnits) -> Option<&String>,
        set: fn(&mut AppUnits, String),
    ) -> Directive {
        Directive::app_unit(
            key,
            move |app| get(app).map(|text| escape::exec_word(text)),
            move |app, text| {
                let [word] = <[String; 1]>::try_from(escape::unescape_exec_words(text)?).ok()?;
                set(app, word);
                Some(())
            },
        )
    }

    /// Every worker has it.
    pub(super) fn required(mut self) -> Directive {
        self.required = true;
        self
    }

    /// A value written as text and read back by `parse`, when `get` has one.
    pub(super) fn text<T: 'static>(
        section: &'static str,
        key: &'static str,
        get: impl Fn(&Worker) -> Option<T> + Send + Sync + 'static,
        set: impl Fn(&mut Worker, T) + Send + Sync + 'static,
        format: fn(T) -> Result<String, Unrepresentable>,
        parse: fn(&str) -> Option<T>,
    ) -> Directive {
        Directive::new(
            section,
            key,
            move |worker| get(worker).map(format).transpose(),
            move |worker, text| {
                set(worker, parse(text)?);
                Some(())
            },
        )
    }

    /// A duration of every worker (systemd.time(7)).
    pub(super) fn duration(
        section: &'static str,
        key: &'static str,
        get: fn(&Worker) -> Duration,
        set: fn(&mut Worker, Duration),
    ) -> Directive {
        let get = move |worker: &Worker| Some(get(worker));
        Directive::text(section, key, get, set, |d| Ok(duration(d)), parse_duration).required()
    }

    /// A memory size, when set (systemd.resource-control(5)).
    pub(super) fn size(
        key: &'static str,
        get: fn(&Worker) -> Option<Bytes>,
        set: fn(&mut Worker, Bytes),
    ) -> Directive {
        Directive::text("Service", key, get, set, |b| Ok(size(b)), parse_size)
    }

    /// A number, when set.
    pub(super) fn number<T: std::str::FromStr + ToString + 'static>(
        section: &'static str,
        key: &'static str,
        get: fn(&Worker) -> Option<T>,
        set: fn(&mut Worker, T),
    ) -> Directive {
        Directive::text(
            section,
            key,
            get,
            set,
            |n| Ok(n.to_string()),
            |s| s.parse().ok(),
        )
    }

    /// An absolute path, when set; `%` escaped.
    pub(super) fn path(
        key: &'static str,
        get: fn(&Worker) -> Option<&Path>,
        set: fn(&mut Worker, PathBuf),
    ) -> Directive {
        Directive::new(
            "Service",
            key,
            move |worker| get(worker).map(escape::path).transpose(),
            move |worker, text| {
                set(worker, path(text)?);
                Some(())
            },
        )
    }

    /// A user or group name, as written.
    pub(super) fn name(
        key: &'static str,
        get: fn(&Worker) -> Option<&String>,
        set: fn(&mut Worker, String),
    ) -> Directive {
        Directive::new(
            "Service",
            key,
            move |worker| Ok(get(worker).cloned()),
            move |worker, text| {
                set(worker, text.to_owned());
                Some(())
            },
        )
    }

    /// `StandardOutput=` or `StandardError=`: a file appended to, or `null`.
    pub(super) fn log(
        key: &'static str,
        get: fn(&Worker) -> Option<&LogTarget>,
        set: fn(&mut Worker, LogTarget),
    ) -> Directive {
        Directive::new(
            "Service",
            key,
            move |worker| {
                Ok(match get(worker) {
                    None => None,
                    Some(LogTarget::Null) => Some("null".to_owned()),
                    Some(LogTarget::Append(file)) => {
                        Some(format!("append:{}", escape::path(file)?))
                    }
                    // The path escaped but for its end: `%i`, the instance.
                    Some(LogTarget::PerWorker(file)) => {
                        let text = file.to_string_lossy();
                        let stem = text.strip_suffix(PER_WORKER).unwrap_or(&text);
                        let stem = escape::path(Path::new(stem))?;
                        Some(format!("append:{stem}{PER_WORKER}"))
                    }
                })
            },
            move |worker, text| {
                set(worker, log_target(text)?);
                Some(())
            },
        )
    }

    /// A plain directive of the worker's `[Service]`: its value as the
    /// option's row wrote it into [`Worker::plain`], and read back as it is.
    pub(super) fn plain(key: &'static str) -> Directive {
        let mut directive = Directive::new(
            "Service",
            key,
            move |worker| Ok(worker.plain.get(key).cloned()),
            move |worker, text| {
                worker.plain.insert(key, text.to_owned());
                Some(())
            },
        );
        directive.placed = false;
        directive
    }

    /// Any other directive.
    pub(super) fn custom(
        section: &'static str,
        key: &'static str,
        write: fn(&Worker) -> Option<String>,
        read: fn(&mut Worker, &str) -> Option<()>,
    ) -> Directive {
        Directive::new(section, key, move |worker| Ok(write(worker)), read)
    }
}

/// An absolute path as a unit file holds it.
pub fn path(text: &str) -> Option<PathBuf> {
    Some(PathBuf::from(unescape_specifiers(text))).filter(|p| p.is_absolute())
}

fn log_target(text: &str) -> Option<LogTarget> {
    let file = match text {
        "null" => return Some(LogTarget::Null),
        _ => text.strip_prefix("append:")?,
    };
    // An escaped `%` is `%%`: `-%%i.log` is a path of that name.
    match file.strip_suffix(PER_WORKER) {
        Some(stem) if !stem.ends_with('%') => {
            let stem = path(stem)?;
            let file = format!("{}{PER_WORKER}", stem.display());
            Some(LogTarget::PerWorker(PathBuf::from(file)))
        }
        _ => path(file).map(LogTarget::Append),
    }
}
