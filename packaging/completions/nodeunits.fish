# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_nodeunits_global_optspecs
    string join \n h/help V/version
end

function __fish_nodeunits_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_nodeunits_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_nodeunits_using_subcommand
    set -l cmd (__fish_nodeunits_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c nodeunits -n "__fish_nodeunits_needs_command" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -s V -l version -d 'Print version'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "render" -d 'Write the units an ecosystem file compiles into'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "check" -d 'Validate an ecosystem file and print its warnings'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "import" -d 'Print an ecosystem file of any format as an equivalent ecosystem.toml'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "export" -d 'Print an ecosystem file\'s apps for another platform'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "apply" -d 'Install the units of an ecosystem file and bring systemd in line with them'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "reload" -d 'Restart an app, every app of an ecosystem file, or all, one instance at a time'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "status" -d 'Show apps and their instances, like `pm2 ls` (also `list`, `ls`)'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "list" -d 'Show apps and their instances, like `pm2 ls` (also `list`, `ls`)'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "ls" -d 'Show apps and their instances, like `pm2 ls` (also `list`, `ls`)'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "deploy" -d 'Deploy to the hosts of an environment of the file\'s `deploy` section, as `pm2 deploy` does'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "describe" -d 'Show one app in full, like `pm2 describe`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "metrics" -d 'Print Prometheus metrics of every app, or install an endpoint serving them'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "logs" -d 'Show the apps\' logs from the journal, like `pm2 logs`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "monit" -d 'A live view of every app and instance, like `pm2 monit`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "init" -d 'Write a starter ecosystem.toml for the app in the current directory'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "start" -d 'Start an installed app, an ecosystem file\'s apps, or a script, like `pm2 start`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "dump" -d 'Print every app started from a script as one ecosystem file, like `pm2 save`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "jlist" -d 'Print every app as JSON, like `pm2 jlist`: `status --json`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "stop" -d 'Stop an app: `systemctl stop APP.socket APP.service`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "restart" -d 'Restart all instances of an app at once: `systemctl restart APP.service`'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "delete" -d 'Stop an app and remove its units'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "secret" -d 'Keep a secret out of the ecosystem file: a systemd credential'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "scale" -d 'Change the number of running instances of an app'
complete -c nodeunits -n "__fish_nodeunits_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l out -d 'Write the unit files into DIR instead of printing them (each app\'s environment file with its values, mode 0600)' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -l show-env -d 'Print the environment files\' values instead of masking them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand render" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand check" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand check" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand check" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand check" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand import" -l env -d 'Check the result for `env_NAME`, as `check --env NAME` does' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and not __fish_seen_subcommand_from kubernetes help" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and not __fish_seen_subcommand_from kubernetes help" -f -a "kubernetes" -d 'Print Kubernetes manifests for every app, for `kubectl apply -f -`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and not __fish_seen_subcommand_from kubernetes help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from kubernetes" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from kubernetes" -l image -d 'The image the pods run: the app, its interpreter and nodeunits-helper [default: APP:latest]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from kubernetes" -l namespace -d 'The namespace of every manifest [default: kubectl\'s current one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from kubernetes" -l show-secrets -d 'Also print Secret APP-env, which holds the values of the apps\' environment; without it, the pods name that Secret and it is said on stderr, but no value is printed'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from kubernetes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "kubernetes" -d 'Print Kubernetes manifests for every app, for `kubectl apply -f -`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l only -d 'Apply only these apps' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l dry-run -d 'Print the plan and the diff of each changed file; change nothing'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -l show-env -d 'With --dry-run, show the environment files\' values instead of masking them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -l update-env -d 'Accepted for PM2\'s habit (`pm2 reload FILE --update-env`): nodeunits takes no variable from the shell; the environment is the ecosystem file\'s, which `reload FILE` and `restart FILE` apply'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -l json -d 'Print JSON for scripts'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -l json -d 'Print JSON for scripts'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -l json -d 'Print JSON for scripts'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l json -d 'Print one JSON object with the same content'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -l show-env -d 'Show the environment\'s values instead of masking them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l install -d 'Install the endpoint, listening on ADDRESS [default: 127.0.0.1:9209]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l uninstall -d 'Stop and remove the endpoint'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l http -d 'Answer one HTTP request on stdin and stdout (what the endpoint runs)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -l pm2-names -d 'Also serve pm2-prometheus-exporter\'s series and labels; with --install, the endpoint serves them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand metrics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -s n -l lines -d 'Show the last N lines' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l instance -d 'Only this instance of APP' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l host -d 'Run it on HOST over ssh (`deploy@web1`, or a name of your ssh config), where nodeunits runs it; repeatable: status makes one table, metrics one exposition with a `host` label, logs prefixes each line with its host, describe shows one host after the other, reload rolls one host after the other and stops at one that fails' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l deploy -d 'The hosts of this environment of the `deploy` section of the ecosystem file in the current directory, with its ssh settings' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -s f -l follow -d 'Follow the journal: print new lines as they are logged'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l err -d 'Only what the apps wrote to stderr'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -l json -d 'Print one JSON object per line: timestamp_usec, app, instance, unit, priority, transport, message'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand monit" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand monit" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand monit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l name -d 'The app\'s name [default: the script\'s file name without its extension]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s i -l instances -d 'How many workers: a number, `max` (one per CPU) or `-1` (one fewer)' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l cwd -d 'The working directory, which a relative SCRIPT is found from [default: the current directory]' -r -f -a "(__fish_complete_directories)"
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l interpreter -d 'The interpreter [default: by the script\'s extension, as PM2 picks it]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l node-args -d 'Options for node itself (`--node-args="--max-old-space-size=512"`)' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l env -d 'For a script: a variable of the app\'s environment, KEY=VALUE (repeatable; the shell\'s own variables are not taken). For an ecosystem file: select `env_NAME`' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l max-memory-restart -d 'Restart a worker above this much memory (`200M`, `1G`)' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l listen-timeout -d 'How long a worker may take to be ready, in milliseconds' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l kill-timeout -d 'How long a worker may take to stop before it is killed, in milliseconds' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l cron-restart -l cron -d 'Restart the app on this schedule (`0 3 * * *`)' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l port -d 'nodeunits\' own: a socket for the workers (`3000`, `127.0.0.1:3000`); repeatable' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l uid -d 'Run the app as this user (PM2\'s `--user`: here `--user` selects the user\'s service manager)' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s l -l log -d 'The combined log file of stdout and stderr' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s o -l output -d 'The file of stdout [default: the journal]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s e -l error -d 'The file of stderr [default: the journal]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l wait-ready -d 'The app says it is ready with `process.send(\'ready\')`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l time -d 'Prefix each line of the log files with its time'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l no-autorestart -d 'Do not restart a worker that exits'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s x -l execute-command -d 'Fork mode: one process per instance, no socket shared by PM2\'s cluster'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand dump" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand dump" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand dump" -l show-env -d 'Print the environment\'s values instead of masking them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand jlist" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand jlist" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand jlist" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand stop" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand stop" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l env -d 'Select `env_NAME` over `env` for every app that defines it' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l bin-dir -d 'Directory holding `nodeunits` and `nodeunits-helper`, as written into the units [default: the directory of this executable]' -r -F
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l target-systemd -d 'The systemd version the units are for [default: the installed one]' -r
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -l update-env -d 'Accepted for PM2\'s habit (`pm2 reload FILE --update-env`): nodeunits takes no variable from the shell; the environment is the ecosystem file\'s, which `reload FILE` and `restart FILE` apply'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand delete" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand delete" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and not __fish_seen_subcommand_from set help" -s h -l help -d 'Print help'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and not __fish_seen_subcommand_from set help" -f -a "set" -d 'Encrypt a value for an app: /etc/nodeunits/credentials/APP/NAME.cred'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and not __fish_seen_subcommand_from set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and __fish_seen_subcommand_from set" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and __fish_seen_subcommand_from set" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "set" -d 'Encrypt a value for an app: /etc/nodeunits/credentials/APP/NAME.cred'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand scale" -l user -d 'Talk to the user\'s service manager (the default when not root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand scale" -l system -d 'Talk to the system service manager (the default as root)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand scale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "render" -d 'Write the units an ecosystem file compiles into'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "check" -d 'Validate an ecosystem file and print its warnings'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "import" -d 'Print an ecosystem file of any format as an equivalent ecosystem.toml'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "export" -d 'Print an ecosystem file\'s apps for another platform'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "apply" -d 'Install the units of an ecosystem file and bring systemd in line with them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "reload" -d 'Restart an app, every app of an ecosystem file, or all, one instance at a time'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "status" -d 'Show apps and their instances, like `pm2 ls` (also `list`, `ls`)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "deploy" -d 'Deploy to the hosts of an environment of the file\'s `deploy` section, as `pm2 deploy` does'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "describe" -d 'Show one app in full, like `pm2 describe`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "metrics" -d 'Print Prometheus metrics of every app, or install an endpoint serving them'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "logs" -d 'Show the apps\' logs from the journal, like `pm2 logs`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "monit" -d 'A live view of every app and instance, like `pm2 monit`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "init" -d 'Write a starter ecosystem.toml for the app in the current directory'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "start" -d 'Start an installed app, an ecosystem file\'s apps, or a script, like `pm2 start`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "dump" -d 'Print every app started from a script as one ecosystem file, like `pm2 save`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "jlist" -d 'Print every app as JSON, like `pm2 jlist`: `status --json`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "stop" -d 'Stop an app: `systemctl stop APP.socket APP.service`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "restart" -d 'Restart all instances of an app at once: `systemctl restart APP.service`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "delete" -d 'Stop an app and remove its units'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "secret" -d 'Keep a secret out of the ecosystem file: a systemd credential'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "scale" -d 'Change the number of running instances of an app'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and not __fish_seen_subcommand_from render check import export apply reload status deploy describe metrics logs monit init start dump jlist stop restart delete secret scale help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and __fish_seen_subcommand_from export" -f -a "kubernetes" -d 'Print Kubernetes manifests for every app, for `kubectl apply -f -`'
complete -c nodeunits -n "__fish_nodeunits_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "set" -d 'Encrypt a value for an app: /etc/nodeunits/credentials/APP/NAME.cred'
