const { execSync } = require('child_process');

execSync('dropdb --if-exists app_dev', { stdio: 'inherit' });
execSync('createdb app_dev', { stdio: 'inherit' });
