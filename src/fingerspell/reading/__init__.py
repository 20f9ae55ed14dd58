"""Reading fingerspelling over time: holds, motion letters, words, sentences and personal calibration."""
