// No pipeline job runs a command that the debian:bookworm image lacks and
// the job has not installed itself (scripts/ci-validate.sh, a check of
// make check's ci-validate step).
//
//   require("tests/ci/job_tools.js")(PIPELINE, IMAGE-COMMANDS, DEPS-TABLE, PREREQ)
//
// PIPELINE is tests/ci/pipeline.js's load() of the expanded file, IMAGE-COMMANDS
// tests/bookworm-commands.txt (checked against a pristine root by
// scripts/fresh.sh --quick), DEPS-TABLE the output of `scripts/deps.sh
// --table` ("package groups tool" lines), PREREQ README's prerequisite
// line.  Each line of a job (before_script, script, after_script) is cut
// at && || ; and |; the first word of each part (after variable
// assignments) must be a shell builtin, a scripts/ file (which installs
// what it needs through scripts/deps.sh), a command of the image, or one
// an earlier part of the job installed: `apt-get install PKG...` (a
// package of the same name) or `scripts/deps.sh [GROUP...]` (the tools of
// those groups, default build).  The check job must start with README's
// prerequisite line.  Prints "ok TEXT" / "bad TEXT" lines (pipeline.js's say).
"use strict";
const fs = require("fs");
const {lines, say} = require("./pipeline.js");
const builtins = new Set(["cd", "test", "[", "echo", "printf", "export", "set", "unset", "true", "false",
    "exit", "source", ".", "read", "shift", "eval", "exec", "wait", "trap", "command", "type", "umask",
    "if", "then", "else", "elif", "fi", "for", "while", "do", "done", "case", "esac", "!", "{", "}"]);
// words: a shell part split into words, quotes kept together
const words = s => (s.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) || []);

module.exports = ({y, jobs}, imageFile, depsFile, prereq) => {
    const image = new Set(fs.readFileSync(imageFile, "utf8").split("\n").filter(l => l && !l.startsWith("#")));
    const tools = {};                       // group -> tools of deps.sh's table
    for (const l of fs.readFileSync(depsFile, "utf8").split("\n")) {
        const [, groups, tool] = l.trim().split(/\s+/);
        if (!groups || tool === "-") continue;
        for (const g of groups.split(",")) (tools[g] = tools[g] || []).push(tool);
    }
    const missing = [];
    for (const [name, j] of jobs) {
        const have = new Set([...image, ...builtins]);
        for (const line of lines(j)) {
            for (const part of line.replace(/#.*$/, "").split(/&&|\|\||;|\|/)) {
                const w = words(part.trim());
                while (w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w.shift();
                if (!w.length) continue;
                const cmd = w[0];
                if (cmd.startsWith("scripts/")) {
                    if (cmd === "scripts/deps.sh" && !w.includes("--tools") && !w.includes("--list")) {
                        const gs = w.slice(1).filter(a => !a.startsWith("-"));
                        const all = w.includes("--all") ? Object.keys(tools) : (gs.length ? gs : ["build"]);
                        for (const g of all) for (const t of tools[g] || []) have.add(t);
                    }
                    continue;
                }
                if (!have.has(cmd)) missing.push(`${name}: ${cmd}`);
                if (cmd === "apt-get" && w.includes("install"))
                    for (const p of w.slice(w.indexOf("install") + 1)) if (!p.startsWith("-")) have.add(p);
            }
        }
    }
    say(missing.length === 0, "every command a job runs is in the debian:bookworm image or installed by the job first" +
        " (tests/bookworm-commands.txt, README's prerequisite line, scripts/deps.sh)" +
        (missing.length ? `; not: ${[...new Set(missing)].join("; ")}` : ""));
    const first = y.check ? lines({before_script: y.check.before_script})[0] : undefined;
    say(first === prereq, "job check starts with README's prerequisite line" +
        (first === prereq ? ` (${prereq})` : `: it starts with ${JSON.stringify(first)}, README has ${JSON.stringify(prereq)}`));
};
