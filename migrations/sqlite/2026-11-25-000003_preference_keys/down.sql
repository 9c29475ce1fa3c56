UPDATE user_preferences SET pref_key = substr(pref_key, 9)
    WHERE pref_key IN ('display.theme', 'display.date_format', 'display.number_format', 'display.default_region');
UPDATE user_preferences SET pref_key = substr(pref_key, 9)
    WHERE pref_key IN ('profile.timezone', 'profile.language');
