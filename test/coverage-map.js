// Every test file counts towards coverage of the whole of src/.
export default () => ['src/**/*.ts']
