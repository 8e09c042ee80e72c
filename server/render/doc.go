// Package render turns transcript content into HTML for the replay pages.
//
// Transcripts hold whatever a session read or wrote, hostile HTML and
// JavaScript included, so every function here returns markup that is inert
// by construction: text is escaped, raw HTML is dropped, and URLs keep only
// the schemes a reader can follow safely. That is what lets the templates
// take the result as template.HTML without re-escaping it.
package render
