package secrets

import (
	"strings"
)

// awsSecretsManager is the aws_secrets_manager adapter
// (`aws secretsmanager batch-get-secret-value`; --account is the
// profile). A secret whose SecretString is a JSON object gives NAME/KEY
// for each key, any other gives NAME.
type awsSecretsManager struct{}

func (awsSecretsManager) requiresAccount() bool { return false }

func (awsSecretsManager) checkInstalled(v *vendor) error {
	ok, err := v.installed("aws", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("AWS CLI is not installed")
	}
	return err
}

func (awsSecretsManager) login(*vendor, string) ([]string, error) { return nil, nil }

func (awsSecretsManager) fetch(v *vendor, secrets []string, from, account string, _ []string) (*Results, error) {
	argv := append([]string{"aws", "secretsmanager", "batch-get-secret-value", "--secret-id-list"}, prefixed(secrets, from)...)
	if account != "" {
		argv = append(argv, "--profile", account)
	}
	out, ok, err := v.call(Call{Argv: argv})
	if err != nil {
		return nil, err
	}
	if !ok {
		// Kamal interpolates the command's output here.
		return nil, runtimeErrorf("Could not read %s from AWS Secrets Manager", out)
	}
	var resp struct {
		SecretValues []struct {
			Name         string `json:"Name"`
			SecretString string `json:"SecretString"`
		} `json:"SecretValues"`
		Errors []struct {
			SecretID string `json:"SecretId"`
			Message  string `json:"Message"`
		} `json:"Errors"`
	}
	if err := parseJSON(out, &resp); err != nil {
		return nil, err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.SecretID + ": " + e.Message
		}
		return nil, runtimeErrorf("%s", strings.Join(msgs, " "))
	}
	res := &Results{}
	for _, s := range resp.SecretValues {
		var obj map[string]any
		var order []string
		if err := parseObject(s.SecretString, &obj, &order); err != nil {
			res.Set(s.Name, s.SecretString)
			continue
		}
		for _, k := range order {
			res.Set(s.Name+"/"+k, obj[k])
		}
	}
	return res, nil
}
