-- Typed preferences move under seed 03's key names, so free-form seed 03 keys can never collide
-- with them: display.* for display settings, profile.* for timezone and language.
UPDATE user_preferences SET pref_key = 'display.' || pref_key
    WHERE pref_key IN ('theme', 'date_format', 'number_format', 'default_region');
UPDATE user_preferences SET pref_key = 'profile.' || pref_key
    WHERE pref_key IN ('timezone', 'language');
