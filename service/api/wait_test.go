package api_test

import "time"

func waitABit() { time.Sleep(25 * time.Millisecond) }
