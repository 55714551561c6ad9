package webhook

import "slices"

// aliases maps a command word to the other spelling that also switches it on in a
// CallbackCommandList. Tencent's English page of the recording callback names it
// Follow.CallbackAfterCloudRecordingChanged, the Chinese one
// Live.CallbackAfterCloudRecordingChanged (https://www.tencentcloud.com/document/product/647/78428,
// https://cloud.tencent.com/document/product/269/129603); an app that followed either page
// gets the callback.
var aliases = map[Command]Command{
	AfterCloudRecordingChanged: AfterCloudRecordingChangedEnAlias,
}

// Wire returns the command word a callback of cmd is sent under and whether it is sent at
// all: cmd itself when the app switched it on, else its alias when the app switched that
// on. So a request carries the word the app configured, and Live.'s when it configured
// both.
func (c *Config) Wire(cmd Command) (Command, bool) {
	if c == nil || c.URL == "" {
		return "", false
	}
	if slices.Contains(c.Commands, string(cmd)) {
		return cmd, true
	}
	if alias, ok := aliases[cmd]; ok && slices.Contains(c.Commands, string(alias)) {
		return alias, true
	}
	return "", false
}
