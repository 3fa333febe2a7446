// The jobs of an expanded pipeline (gitlab-ci-local --preview), for the
// checks of scripts/ci-validate.sh, which print "ok TEXT" / "bad TEXT".
"use strict";
const fs = require("fs");
const globals = new Set(["stages", "variables", "default", "include", "workflow",
                         "image", "services", "cache", "before_script", "after_script"]);
// load: the file as an object (y) and its jobs, [name, job] pairs
exports.load = (jsyaml, preview) => {
    const y = require(jsyaml).load(fs.readFileSync(preview, "utf8"));
    const jobs = Object.entries(y).filter(([k, v]) => !globals.has(k) && !k.startsWith(".") && v && typeof v === "object");
    return {y, jobs};
};
// lines: a job's shell lines, before_script, script and after_script
exports.lines = j => [j.before_script, j.script, j.after_script].flat(Infinity).filter(l => typeof l === "string");
exports.say = (good, text) => console.log(`${good ? "ok" : "bad"} ${text}`);
